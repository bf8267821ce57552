import { createMemoryStore } from "../../src/store/memory/memory-store.js";
import { defineStoreConformance } from "../../src/testing/store-conformance.js";

defineStoreConformance("memory", async () => ({ store: createMemoryStore(), cleanup: async () => undefined }));
