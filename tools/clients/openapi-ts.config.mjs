// How tools/clients/run generates a TypeScript client with @hey-api/openapi-ts: the spec and
// the output folder come from tools/clients/run (CLIENT_SPEC, CLIENT_OUTPUT). Everything that
// would otherwise depend on the machine or on the folder's surroundings is set here, so that the
// generated code depends on the spec and the pinned versions only.
export default {
  input: process.env.CLIENT_SPEC,
  output: {
    path: process.env.CLIENT_OUTPUT,
    // No tsconfig.json is looked for; imports end in .js, as Node's ESM and tsc's nodenext need.
    tsConfigPath: null,
    module: { extension: ".js" },
    postProcess: [],
  },
  // The fetch client is generated into the output (client/, core/): no runtime dependency.
  plugins: ["@hey-api/client-fetch", "@hey-api/typescript", "@hey-api/sdk"],
  logs: { file: false },
};
