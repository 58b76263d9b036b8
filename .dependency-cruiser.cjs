// The layering of docs/architecture.md as rules, checked in CI (test/dependencies.test.ts). Data flows one way:
// data → pipeline/capture → engine → store → extract → analysis → steer → report; run, demo and serve drive them;
// src/cli holds every command on top and is imported by nothing else (the package bin is src/cli/main.ts).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "nothing-imports-the-cli",
      comment: "src/cli holds the commands; the library never reaches up into it (move what it needs out of cli/)",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "util-is-neutral",
      comment: "src/util (RNG, f16, atomic writes, canonical JSON, errors) depends on no feature folder",
      severity: "error",
      from: { path: "^src/util/" },
      to: { path: "^src/", pathNot: "^src/util/" },
    },
    {
      name: "engine-knows-no-concepts",
      comment: "the engine knows nothing of concepts, languages, stores or analyses",
      severity: "error",
      from: { path: "^src/engine/" },
      to: { path: "^src/(data|pipeline|store|extract|analysis|steer|report|run|demo|synth)/" },
    },
    {
      name: "data-is-the-source",
      comment: "the data adapters read files; they run no model and compute no analysis",
      severity: "error",
      from: { path: "^src/data/" },
      to: { path: "^src/(engine|pipeline|store|extract|analysis|steer|report|run|demo)/" },
    },
    {
      name: "analysis-never-calls-the-engine",
      comment: "stores, extraction and analysis work from stored activations, without a model",
      severity: "error",
      from: { path: "^src/(store|extract|analysis)/" },
      to: { path: "^src/(engine|pipeline|steer|report|run|demo)/" },
    },
    {
      name: "report-is-downstream",
      comment: "the report reads results; nothing below it imports it, and it runs no model or steering",
      severity: "error",
      from: { path: "^src/(data|engine|gguf|store|extract|analysis|pipeline|steer|synth|util)/" },
      to: { path: "^src/report/" },
    },
    {
      name: "report-runs-nothing",
      severity: "error",
      from: { path: "^src/report/" },
      to: { path: "^src/(engine|steer|run|demo)/" },
    },
    {
      name: "drivers-are-imported-by-the-cli",
      comment: "run (manifests, shards), demo and serve drive the library; only the CLI (and each other) import them",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(cli|run|demo|serve)/" },
      to: { path: "^src/(run|demo|serve)/" },
    },
    {
      name: "no-circular",
      comment: "a cycle hides which module is the lower one (type-only imports, e.g. Session naming its Model, aside)",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
