// The tests share the helper the package ships in `intercom-bridge/testing`.
export { sleep, waitFor, type WaitForOptions } from "../../src/testing/wait-for.js";
