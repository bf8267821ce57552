// Bootstrap map; replaced by the generated item types.
import type { topicNames } from "./generated/topic-names.js";
export type TopicItemMap = { [K in (typeof topicNames)[number]]: Record<string, unknown> & { type?: string; id?: string | number } };
