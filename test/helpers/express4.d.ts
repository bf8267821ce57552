// Express 4 is installed under the alias "express4" (npm:express@^4) so the adapters are tested on both majors the
// peer range promises; its API is what @types/express describes.
declare module "express4" {
  import express from "express";
  export default express;
}
