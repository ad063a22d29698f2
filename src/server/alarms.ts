// The replicated alarm list (etcd's alarm store): which member raised which alarm. Alarms change
// only by applying an "alarm" request, so every member holds the same list at the same index, and
// the list travels in member snapshots. NOSPACE caps the cluster: writes that would grow the
// store fail until an operator disarms it (after compaction and defragmentation).

import { err, ok, type Result } from "../lib/result.js";

/** etcd's AlarmType names (NONE is only a request wildcard, never raised). */
export type AlarmName = "NOSPACE" | "CORRUPT";
export const ALARM_NAMES: readonly AlarmName[] = ["NOSPACE", "CORRUPT"];

export interface RaisedAlarm {
  readonly memberID: number;
  readonly alarm: AlarmName;
}

export class AlarmStore {
  /** In raising order; one entry per (member, alarm). */
  private raised: RaisedAlarm[] = [];

  list(): readonly RaisedAlarm[] {
    return this.raised;
  }

  has(alarm: AlarmName): boolean {
    return this.raised.some((a) => a.alarm === alarm);
  }

  /** Raises the alarm; false if it was already raised (nothing changes). */
  activate(a: RaisedAlarm): boolean {
    if (this.raised.some((r) => r.memberID === a.memberID && r.alarm === a.alarm)) return false;
    this.raised = [...this.raised, { memberID: a.memberID, alarm: a.alarm }];
    return true;
  }

  /** Clears the alarm; false if it was not raised. */
  deactivate(a: RaisedAlarm): boolean {
    const kept = this.raised.filter((r) => !(r.memberID === a.memberID && r.alarm === a.alarm));
    const changed = kept.length !== this.raised.length;
    this.raised = kept;
    return changed;
  }

  /** Layout: count u32, then per alarm memberID u32 and the alarm's index in ALARM_NAMES u8. */
  encode(): Uint8Array {
    const bytes = new Uint8Array(4 + 5 * this.raised.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.raised.length);
    this.raised.forEach((a, i) => {
      view.setUint32(4 + 5 * i, a.memberID);
      view.setUint8(8 + 5 * i, ALARM_NAMES.indexOf(a.alarm));
    });
    return bytes;
  }

  static decode(bytes: Uint8Array): Result<AlarmStore, string> {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 4) return err("alarms: truncated");
    const count = view.getUint32(0);
    if (bytes.length !== 4 + 5 * count) return err(`alarms: ${count} alarms do not fit`);
    const store = new AlarmStore();
    for (let i = 0; i < count; i++) {
      const alarm = ALARM_NAMES[view.getUint8(8 + 5 * i)];
      if (alarm === undefined) return err(`alarms: unknown alarm ${view.getUint8(8 + 5 * i)}`);
      store.activate({ memberID: view.getUint32(4 + 5 * i), alarm });
    }
    return ok(store);
  }
}
