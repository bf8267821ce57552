// moved to src/delivery/backoff.ts; redis switches in its own change
export * from "../delivery/backoff.js";
