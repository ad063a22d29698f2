// Auth traffic for KV runs (a scenario's `workload: { auth: true }`). The traffic's clients act as
// three kinds of caller: root (the root role), the writer (a role with READ on the workload's keys,
// and WRITE while root gives it), and anonymous clients with no credentials. An admin client, as
// root, first sets the users and roles up (not recorded: auth is off meanwhile, so they change
// no outcome), then keeps changing auth while the traffic runs: enable, disable, give the writer
// WRITE (READWRITE on the keys), take it back (READ). Those changes are recorded, so the checker's
// etcd model (src/porcupine/models/etcd.ts) follows auth along with the data, and every refusal
// (permission denied, no user, credentials older than the auth store) must fit it.
//
// Each member takes a named client's auth revision when its request arrives (KvCluster.users),
// as it does for a certificate user or a simple token.
import { latin1ToBytes, prefixEnd } from "../../src/lib/bytes.js";
import type { Prng } from "../../src/lib/prng.js";
import type { AuthRequest } from "../../src/api/auth.js";
import type { AuthUser } from "../../src/porcupine/models/etcd-types.js";
import type { World } from "../world.js";
import type { ClientRequest } from "./kv-cluster.js";
import type { SimClient } from "./kv-client.js";
import type { KvTraffic } from "./kv-traffic.js";
import { AUTH_WRITER_ROLE } from "./kv-workload.js";

/** The client endpoint that sets auth up and changes it. */
export const AUTH_ADMIN_CLIENT = "auth-admin";
const WRITER_USER = "writer";
const SETUP_RETRY_MS = 200;

/** Who a client endpoint is: traffic clients take turns; everyone else (probes, watchers) is root. */
export function authUserOf(client: string): AuthUser {
  const traffic = /^client-(\d+)$/.exec(client)?.[1];
  if (traffic === undefined) return "root";
  const kinds: readonly AuthUser[] = ["writer", "anonymous", "root"];
  return kinds[Number(traffic) % kinds.length] as AuthUser;
}

/** The user a member sees for a client: none for anonymous ones. */
export function credentialsUserOf(client: string): string | undefined {
  const user = authUserOf(client);
  return user === "anonymous" ? undefined : user;
}

export interface KvAuthTrafficOptions {
  readonly keyPrefix: string;
  /** About this long between two auth changes. */
  readonly everyMs: number;
  /** No change starts at or after this virtual time. */
  readonly endMs: number;
}

export class KvAuthTraffic {
  /** The setup finished: users and roles exist (auth changes start). */
  ready = false;
  changes = 0;

  constructor(
    private readonly world: World,
    private readonly client: SimClient,
    private readonly traffic: KvTraffic,
    private readonly members: readonly string[],
    private readonly random: Prng,
    private readonly o: KvAuthTrafficOptions,
  ) {}

  start(): void {
    this.setUp(0);
  }

  private writerPermission(permType: "READ" | "READWRITE"): AuthRequest {
    const key = latin1ToBytes(this.o.keyPrefix);
    const perm = { permType, key, range_end: prefixEnd(key) };
    return { op: "role-grant-permission", name: AUTH_WRITER_ROLE, perm };
  }

  private setupSteps(): AuthRequest[] {
    return [
      { op: "user-add", name: "root" },
      { op: "user-grant-role", user: "root", role: "root" },
      { op: "user-add", name: WRITER_USER },
      { op: "role-add", name: AUTH_WRITER_ROLE },
      this.writerPermission("READWRITE"),
      { op: "user-grant-role", user: WRITER_USER, role: AUTH_WRITER_ROLE },
    ];
  }

  /** Runs setup step `i` until it is done (a retry may find it done already), then the next. */
  private setUp(i: number): void {
    const steps = this.setupSteps();
    const step = steps[i];
    if (step === undefined) {
      this.ready = true;
      return this.scheduleChange();
    }
    const request: ClientRequest = { kind: "auth", request: step };
    this.client.call(this.random.pick(this.members), request, (outcome) => {
      const done =
        outcome.type === "ok" ||
        (outcome.type === "error" &&
          (outcome.error.name === "UserAlreadyExist" || outcome.error.name === "RoleAlreadyExist"));
      if (done) return this.setUp(i + 1);
      this.world.schedule(SETUP_RETRY_MS, this.client.name, "auth-setup", i, () => this.setUp(i));
    });
  }

  private scheduleChange(): void {
    const delayMs = this.random.int(Math.ceil(this.o.everyMs / 2), Math.ceil(this.o.everyMs * 1.5));
    this.world.schedule(delayMs, this.client.name, "auth-change", this.changes, () => {
      if (this.world.nowMs >= this.o.endMs) return;
      this.changes++;
      const request: ClientRequest = { kind: "auth", request: this.nextChange() };
      this.traffic.callRecorded(this.client, this.random.pick(this.members), request, () =>
        this.scheduleChange(),
      );
    });
  }

  /** Mostly enabled, so refusals happen; the writer's WRITE comes and goes. */
  private nextChange(): AuthRequest {
    const roll = this.random.int(0, 99);
    if (roll < 30) return { op: "auth-enable" };
    if (roll < 50) return { op: "auth-disable" };
    if (roll < 75) return this.writerPermission("READWRITE");
    return this.writerPermission("READ");
  }
}
