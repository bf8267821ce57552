// moved to src/delivery/types.ts; redis switches in its own change
export * from "../delivery/types.js";
