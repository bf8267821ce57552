// moved to src/delivery/lease-loop.ts; redis switches in its own change
export * from "../delivery/lease-loop.js";
