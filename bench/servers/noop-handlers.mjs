// A handlers module for `intercom-bridge serve` whose only handler does nothing: measures the pipeline itself.
export default {
  "*": async () => {},
};
