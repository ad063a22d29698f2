// The contract of the Network seam (src/env/network.ts) on a fault-free link, as one suite that
// every implementation runs (the simulator's now; the real peer transport when it lands).
import { describe, expect, it } from "vitest";
import type { Network } from "../../src/env/network.js";

export interface NetworkWorld {
  readonly network: Network<string>;
  /** Lets the network deliver whatever is in flight. */
  settle(): Promise<void>;
}

export function networkContract(name: string, make: () => NetworkWorld): void {
  describe(`Network contract: ${name}`, () => {
    it("delivers later, never inside send, with the sender's id", async () => {
      const w = make();
      const got: string[] = [];
      w.network.attach("a", () => undefined);
      w.network.attach("b", (from, m) => got.push(`${from}:${m}`));
      w.network.send("a", "b", "hello");
      expect(got).toEqual([]);
      await w.settle();
      expect(got).toEqual(["a:hello"]);
    });

    it("keeps the order of messages on one link when the link is calm", async () => {
      const w = make();
      const got: string[] = [];
      w.network.attach("a", () => undefined);
      w.network.attach("b", (_from, m) => got.push(m));
      const sent = Array.from({ length: 20 }, (_, i) => `m${i}`);
      for (const m of sent) w.network.send("a", "b", m);
      await w.settle();
      expect(got).toEqual(sent);
    });

    it("drops messages to an endpoint that is not attached, or detached", async () => {
      const w = make();
      const got: string[] = [];
      w.network.attach("a", () => undefined);
      w.network.send("a", "nobody", "lost");
      w.network.attach("b", (_from, m) => got.push(m));
      w.network.detach("b");
      w.network.send("a", "b", "also lost");
      await w.settle();
      expect(got).toEqual([]);
    });
  });
}
