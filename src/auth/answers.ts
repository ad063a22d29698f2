// The Auth service's answers, read from the auth store or made from an applied change. The header
// carries the store revision `revision`; the member fills in the rest of it.
import { unreachable } from "../lib/assert.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import { header } from "../api/rpc.js";
import type { AuthChange, AuthRead, AuthResponses } from "../api/auth.js";
import type { AuthApplied, AuthStore } from "./auth-store.js";

type ReadAnswer = AuthResponses[AuthRead["op"]];
type ChangeAnswer = AuthResponses[AuthChange["op"]];

/** Answers a read of the auth store (checks of who may read are the caller's). */
export function readAuth(
  auth: AuthStore,
  read: AuthRead,
  revision: number,
): Result<ReadAnswer, EtcdError> {
  const h = header(revision);
  switch (read.op) {
    case "auth-status":
      return ok({ header: h, enabled: auth.isEnabled, authRevision: auth.revision });
    case "user-get": {
      const user = auth.user(read.name);
      return user === undefined
        ? err(Errors.UserNotFound)
        : ok({ header: h, roles: [...user.roles] });
    }
    case "user-list":
      return ok({ header: h, users: auth.userNames() });
    case "role-get": {
      const perms = auth.rolePermissions(read.role);
      return perms.ok ? ok({ header: h, perm: perms.value }) : perms;
    }
    case "role-list":
      return ok({ header: h, roles: auth.roleNames() });
    case "password-of": {
      const stored = auth.passwordOf(read.name);
      return stored.ok ? ok({ header: h, ...stored.value }) : stored;
    }
    default:
      return unreachable(read, "auth read");
  }
}

/** The answer to an applied change. */
export function answerChange(
  applied: AuthApplied & { readonly token: string },
  revision: number,
): ChangeAnswer {
  const h = header(revision);
  if (applied.op !== "authenticate") return { header: h };
  return { header: h, user: applied.user, revision: applied.revision, token: applied.token };
}
