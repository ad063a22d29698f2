import { CALM_LINK, SimNetwork } from "../../sim/net.js";
import { World } from "../../sim/world.js";
import { networkContract } from "./network.contract.js";

networkContract("simulated network", () => {
  const world = new World(1);
  const network = new SimNetwork<string>(world, {
    defaults: CALM_LINK,
    digest: (m) => m.length,
    kind: () => "msg",
  });
  return {
    network,
    settle: () => {
      world.runUntil({});
      return Promise.resolve();
    },
  };
});
