import { createMemoryStore } from "../../src/store/memory-store.js";
import { defineStoreConformance } from "./store.suite.js";

defineStoreConformance("memory", async () => ({ store: createMemoryStore(), cleanup: async () => undefined }));
