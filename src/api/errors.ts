// etcd's client-visible errors: the gRPC status code name and the exact message etcd sends, so
// clients that match on either (etcd's Go client matches on the message, Kubernetes on
// "required revision has been compacted") behave the same against detcd.
//
// An EtcdError is a plain tagged value: engine code returns it inside a Result (src/lib/result.ts);
// the gRPC layer turns `code` into the status code and `message` into the status message.

/** gRPC status code names used by etcd's errors (google.golang.org/grpc/codes). */
export type GrpcCode =
  | "Canceled"
  | "Unknown"
  | "InvalidArgument"
  | "DeadlineExceeded"
  | "NotFound"
  | "FailedPrecondition"
  | "PermissionDenied"
  | "ResourceExhausted"
  | "OutOfRange"
  | "Unavailable"
  | "DataLoss"
  | "Unauthenticated";

/** Numeric values of the gRPC codes above, for the wire. */
export const GRPC_CODE_VALUES: Readonly<Record<GrpcCode, number>> = {
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  OutOfRange: 11,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
};

/** One etcd error: `name` is etcd's identifier without the ErrGRPC prefix, stable for matching. */
export interface EtcdError {
  readonly type: "etcd-error";
  readonly name: EtcdErrorName;
  readonly code: GrpcCode;
  readonly message: string;
}

function def(code: GrpcCode, message: string): { code: GrpcCode; message: string } {
  return { code, message };
}

const CATALOGUE = {
  EmptyKey: def("InvalidArgument", "etcdserver: key is not provided"),
  KeyNotFound: def("InvalidArgument", "etcdserver: key not found"),
  ValueProvided: def("InvalidArgument", "etcdserver: value is provided"),
  LeaseProvided: def("InvalidArgument", "etcdserver: lease is provided"),
  TooManyOps: def("InvalidArgument", "etcdserver: too many operations in txn request"),
  DuplicateKey: def("InvalidArgument", "etcdserver: duplicate key given in txn request"),
  InvalidSortOption: def("InvalidArgument", "etcdserver: invalid sort option"),
  Compacted: def("OutOfRange", "etcdserver: mvcc: required revision has been compacted"),
  FutureRev: def("OutOfRange", "etcdserver: mvcc: required revision is a future revision"),
  NoSpace: def("ResourceExhausted", "etcdserver: mvcc: database space exceeded"),

  LeaseNotFound: def("NotFound", "etcdserver: requested lease not found"),
  LeaseExist: def("FailedPrecondition", "etcdserver: lease already exists"),
  LeaseTTLTooLarge: def("OutOfRange", "etcdserver: too large lease TTL"),

  WatchCanceled: def("Canceled", "etcdserver: watch canceled"),

  MemberExist: def("FailedPrecondition", "etcdserver: member ID already exist"),
  PeerURLExist: def("FailedPrecondition", "etcdserver: Peer URLs already exists"),
  MemberNotEnoughStarted: def(
    "FailedPrecondition",
    "etcdserver: re-configuration failed due to not enough started members",
  ),
  MemberBadURLs: def("InvalidArgument", "etcdserver: given member URLs are invalid"),
  MemberNotFound: def("NotFound", "etcdserver: member not found"),
  MemberNotLearner: def("FailedPrecondition", "etcdserver: can only promote a learner member"),
  LearnerNotReady: def(
    "FailedPrecondition",
    "etcdserver: can only promote a learner member which is in sync with leader",
  ),
  TooManyLearners: def("FailedPrecondition", "etcdserver: too many learner members in cluster"),
  ClusterIDMismatch: def("FailedPrecondition", "etcdserver: cluster ID mismatch"),

  RequestTooLarge: def("InvalidArgument", "etcdserver: request is too large"),
  TooManyRequests: def("ResourceExhausted", "etcdserver: too many requests"),
  // Raft refused a proposal although a leader exists (a leadership transfer is under way, or the
  // uncommitted-size limit is reached). etcd returns raft's own error, which no gRPC mapping
  // covers, so clients see code Unknown with raft's message.
  ProposalDropped: def("Unknown", "raft proposal dropped"),

  RootUserNotExist: def("FailedPrecondition", "etcdserver: root user does not exist"),
  RootRoleNotExist: def("FailedPrecondition", "etcdserver: root user does not have root role"),
  UserAlreadyExist: def("FailedPrecondition", "etcdserver: user name already exists"),
  UserEmpty: def("InvalidArgument", "etcdserver: user name is empty"),
  UserNotFound: def("FailedPrecondition", "etcdserver: user name not found"),
  RoleAlreadyExist: def("FailedPrecondition", "etcdserver: role name already exists"),
  RoleNotFound: def("FailedPrecondition", "etcdserver: role name not found"),
  RoleEmpty: def("InvalidArgument", "etcdserver: role name is empty"),
  AuthFailed: def(
    "InvalidArgument",
    "etcdserver: authentication failed, invalid user ID or password",
  ),
  PermissionNotGiven: def("InvalidArgument", "etcdserver: permission not given"),
  PermissionDenied: def("PermissionDenied", "etcdserver: permission denied"),
  RoleNotGranted: def("FailedPrecondition", "etcdserver: role is not granted to the user"),
  PermissionNotGranted: def(
    "FailedPrecondition",
    "etcdserver: permission is not granted to the role",
  ),
  AuthNotEnabled: def("FailedPrecondition", "etcdserver: authentication is not enabled"),
  InvalidAuthToken: def("Unauthenticated", "etcdserver: invalid auth token"),
  InvalidAuthMgmt: def("InvalidArgument", "etcdserver: invalid auth management"),
  AuthOldRevision: def("InvalidArgument", "etcdserver: revision of auth store is old"),
  // A member with only the JWT public key cannot sign: etcd returns the auth package's error, which
  // no gRPC mapping covers.
  AuthVerifyOnly: def("Unknown", "auth: token signing attempted with verify-only key"),

  NoLeader: def("Unavailable", "etcdserver: no leader"),
  NotLeader: def("FailedPrecondition", "etcdserver: not leader"),
  LeaderChanged: def("Unavailable", "etcdserver: leader changed"),
  NotCapable: def("FailedPrecondition", "etcdserver: not capable"),
  Stopped: def("Unavailable", "etcdserver: server stopped"),
  Timeout: def("Unavailable", "etcdserver: request timed out"),
  TimeoutDueToLeaderFail: def(
    "Unavailable",
    "etcdserver: request timed out, possibly due to previous leader failure",
  ),
  TimeoutDueToConnectionLost: def(
    "Unavailable",
    "etcdserver: request timed out, possibly due to connection lost",
  ),
  TimeoutWaitAppliedIndex: def(
    "Unavailable",
    "etcdserver: request timed out, waiting for the applied index took too long",
  ),
  TimeoutLeaderTransfer: def(
    "Unavailable",
    "etcdserver: request timed out, leader transfer took too long",
  ),
  Unhealthy: def("Unavailable", "etcdserver: unhealthy cluster"),
  Corrupt: def("DataLoss", "etcdserver: corrupt cluster"),
  NotSupportedForLearner: def("FailedPrecondition", "etcdserver: rpc not supported for learner"),
  BadLeaderTransferee: def("FailedPrecondition", "etcdserver: bad leader transferee"),

  Canceled: def("Canceled", "etcdserver: request canceled"),
  DeadlineExceeded: def("DeadlineExceeded", "etcdserver: context deadline exceeded"),
} as const;

export type EtcdErrorName = keyof typeof CATALOGUE;

/** Every error name, in catalogue order (for tests and for mapping messages back to errors). */
export const ETCD_ERROR_NAMES: readonly EtcdErrorName[] = Object.keys(CATALOGUE) as EtcdErrorName[];

function make(name: EtcdErrorName): EtcdError {
  const entry = CATALOGUE[name];
  return Object.freeze({ type: "etcd-error", name, code: entry.code, message: entry.message });
}

/** The error value for `name`; the same frozen object every time. */
export const Errors: Readonly<Record<EtcdErrorName, EtcdError>> = Object.freeze(
  Object.fromEntries(ETCD_ERROR_NAMES.map((n) => [n, make(n)])) as Record<EtcdErrorName, EtcdError>,
);

/** Finds the error whose message is `message` (a client decoding a gRPC status), if any. */
export function errorFromMessage(message: string): EtcdError | undefined {
  return ETCD_ERROR_NAMES.map((n) => Errors[n]).find((e) => e.message === message);
}

export function isEtcdError(x: unknown): x is EtcdError {
  return typeof x === "object" && x !== null && (x as { type?: unknown }).type === "etcd-error";
}
