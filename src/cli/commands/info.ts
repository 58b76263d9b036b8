// `valuelens info MODEL.gguf`: what llama.cpp sees in a model, and how this build runs it.
import { loadModel } from "../../engine/model.js";
import { native, type NativeBackendInfo } from "../../engine/native.js";
import { parseCommand, UsageError, type CommandSpec } from "../args.js";

export const infoSpec = {
  name: "info",
  synopsis: "[MODEL.gguf] [options]",
  about: "a model's shape and metadata as llama.cpp sees it; without a model, or with --build: how this build runs\n(GPU backend, CPU build and the CPU variant in use, devices, where the backend libraries were loaded from)",
  flags: {
    metadata: { type: "boolean", help: "also print every metadata key" },
    build: { type: "boolean", help: "print this build's backend, CPU variant and devices (takes no model)" },
    json: { type: "boolean", help: "print JSON" },
  },
} as const satisfies CommandSpec;

function buildText(b: NativeBackendInfo): string {
  const supported = b.cpuVariants.filter((v) => v.supported).map((v) => v.name);
  const others = b.cpuVariants.filter((v) => !v.supported).map((v) => v.name);
  const lines = [
    `backend: ${b.build}`,
    `cpu build: ${b.cpuBuild}${b.cpuVariant ? `, variant in use: ${b.cpuVariant}` : ""}`,
    ...(b.cpuVariants.length ? [`cpu variants: ${supported.join(", ")} run here${others.length ? `; ${others.join(", ")} need a newer CPU` : ""}`] : []),
    ...(b.backendDir ? [`libraries: ${b.backendDir}`] : []),
    `backends: ${b.backends.join(", ")}`,
    ...b.devices.map((d) => `device: ${d.name} (${d.type}) ${d.description}`),
    ...(b.loadError ? [`error: ${b.loadError}`] : []),
    b.systemInfo,
  ];
  return lines.join("\n") + "\n";
}

export async function infoCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(infoSpec, argv);
  if (positionals.length > 1) throw new UsageError(`give at most one model file (got ${positionals.length}: ${positionals.join(" ")})`);
  const backend = native().backendInfo();
  if (positionals.length === 0 || values.build) {
    if (positionals.length > 0) throw new UsageError("--build takes no model file");
    process.stdout.write(values.json ? JSON.stringify(backend) + "\n" : buildText(backend));
    return;
  }
  const m = await loadModel(positionals[0], { vocabOnly: false });
  const info = {
    path: m.path,
    arch: m.arch,
    name: m.name,
    nLayer: m.nLayer,
    nEmbd: m.nEmbd,
    nHead: m.nHead,
    nHeadKv: m.nHeadKv,
    nVocab: m.nVocab,
    contextLength: m.contextLength,
    nParams: m.nParams,
    sizeBytes: m.sizeBytes,
    chatTemplate: m.chatTemplate,
    ...(values.metadata ? { metadata: m.metadata } : {}),
  };
  m.dispose();
  if (values.json) process.stdout.write(JSON.stringify(info) + "\n");
  else {
    process.stdout.write(`${info.path}\n  ${info.arch} "${info.name}": ${info.nLayer} layers, nEmbd ${info.nEmbd}, heads ${info.nHead}/${info.nHeadKv}, vocab ${info.nVocab}, context ${info.contextLength}, ${(info.nParams / 1e6).toFixed(1)}M params\n  layers 1..${info.nLayer} (HF hidden_states; ${info.nLayer} = after the final norm)\n`);
    if (values.metadata) for (const [k, v] of Object.entries(m.metadata)) process.stdout.write(`  ${k} = ${v.length > 120 ? v.slice(0, 117) + "..." : v}\n`);
  }
}
