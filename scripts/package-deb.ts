/** @module Builds Debian packages (amd64, arm64) from the compiled dist/ binaries with dpkg-deb: binary, systemd units, example config, docs. */

import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { $ } from "bun";
import { DEFAULT_CONFIG } from "../control/control-config.ts";
import pkg from "../package.json" with { type: "json" };

const ROOT = join(import.meta.dir, "..");
/** Debian architecture -> the binary scripts/build.ts writes for it. */
export const ARCH_BINARIES = { amd64: "dist/pvrlink-linux-x64", arm64: "dist/pvrlink-linux-arm64" } as const;
type DebArch = keyof typeof ARCH_BINARIES;

/** The node's data directory under the unit (StateDirectory=pvrlink-node). */
export const NODE_STATE_DIR = "/var/lib/pvrlink-node";

/** Every key with its default, as the example a package ships (JSON has no comments: docs/operations.md explains each). */
export function exampleNodeConfig(): Record<string, unknown> {
  return { ...DEFAULT_CONFIG, http: "0.0.0.0:8650", udp: "0.0.0.0:3478", data: NODE_STATE_DIR };
}

const POSTINST = `#!/bin/sh
set -e
# Units are installed but not enabled: the operator edits /etc/pvrlink/node.json first (docs/operations.md).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
  # An upgrade restarts what was running, so the new binary serves at once.
  if [ "$1" = configure ] && [ -n "$2" ]; then
    systemctl try-restart pvrlink-node.service pvrlink-recorder.service || true
  fi
fi
exit 0
`;

const POSTRM = `#!/bin/sh
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
fi
# The state directories (/var/lib/private/pvrlink-node, /var/lib/private/pvrlink-recorder) hold device
# secrets and recordings; they are never removed by the package, not even on purge.
exit 0
`;

/** Files placed under one package root: `put` copies a file in, `write` writes text; both set the mode. */
function packageTree(root: string) {
  const at = (dest: string) => {
    mkdirSync(join(root, dest, ".."), { recursive: true });
    return join(root, dest);
  };
  return {
    put(src: string, dest: string, mode: number): void {
      copyFileSync(src, at(dest));
      chmodSync(join(root, dest), mode);
    },
    write(dest: string, text: string, mode = 0o644): void {
      writeFileSync(at(dest), text);
      chmodSync(join(root, dest), mode);
    },
  };
}

/** Lays out one package tree and builds OUT/pvrlink_VERSION_ARCH.deb; returns its path. */
export async function buildDeb(arch: DebArch, outDir: string): Promise<string> {
  const binary = join(ROOT, ARCH_BINARIES[arch]);
  if (!existsSync(binary))
    throw new Error(
      `Cannot package ${arch}: ${binary} is missing; run 'bun scripts/build.ts ${arch === "amd64" ? "x64" : "arm64"}'`,
    );
  const root = mkdtempSync(join(tmpdir(), `pvrlink-deb-${arch}-`));
  try {
    const { put, write } = packageTree(root);
    put(binary, "usr/bin/pvrlink", 0o755);
    for (const unit of ["pvrlink-node.service", "pvrlink-recorder.service"])
      put(join(ROOT, "packaging/systemd", unit), `lib/systemd/system/${unit}`, 0o644);
    put(join(ROOT, "packaging/etc/node.json"), "etc/pvrlink/node.json", 0o644);
    const doc = "usr/share/doc/pvrlink";
    put(join(ROOT, "docs/operations.md"), `${doc}/operations.md`, 0o644);
    put(join(ROOT, "README.md"), `${doc}/README.md`, 0o644);
    write(`${doc}/examples/node.example.json`, `${JSON.stringify(exampleNodeConfig(), null, 2)}\n`);
    write(
      `${doc}/copyright`,
      `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: pvrlink\nFiles: *\nCopyright: the pvrlink authors\nLicense: see README.md\n`,
    );
    write("DEBIAN/conffiles", "/etc/pvrlink/node.json\n");
    write("DEBIAN/postinst", POSTINST, 0o755);
    write("DEBIAN/postrm", POSTRM, 0o755);
    const installedKiB = Math.ceil((statSync(binary).size + 64 * 1024) / 1024);
    write(
      "DEBIAN/control",
      [
        "Package: pvrlink",
        `Version: ${pkg.version}`,
        `Architecture: ${arch}`,
        "Maintainer: pvrlink maintainers <pvrlink@localhost>",
        "Section: net",
        "Priority: optional",
        "Depends: libc6 (>= 2.27)",
        `Installed-Size: ${installedKiB}`,
        "Homepage: file:///usr/share/doc/pvrlink/README.md",
        `Description: ${pkg.description}`,
        " One binary for both roles: the recorder daemon (pvrlink recorder run) and the self-hostable",
        " control node (pvrlink control serve) with its web console, metrics and admin CLI.",
        " Ships hardened systemd units for both; neither is enabled until configured.",
        "",
      ].join("\n"),
    );
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, `pvrlink_${pkg.version}_${arch}.deb`);
    await $`dpkg-deb --root-owner-group -Zgzip -z6 --build ${root} ${out}`.quiet();
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ options: { out: { type: "string" } }, allowPositionals: true });
  const arches = (positionals.length ? positionals : Object.keys(ARCH_BINARIES)) as DebArch[];
  for (const a of arches) {
    if (!(a in ARCH_BINARIES)) throw new Error(`Cannot package '${a}': use amd64 or arm64`);
    console.log(`built ${await buildDeb(a, values.out ?? join(ROOT, "dist"))}`);
  }
}
