/** @module A throwaway PostgreSQL cluster for tests: initdb and pg_ctl as the postgres user, in a temp dir, on a free port. */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { freePort } from "./free-port.ts";

/** Debian's layout: /usr/lib/postgresql/VERSION/bin; the newest installed version is used. */
function postgresBin(tool: string): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const p = join(root, v, "bin", tool);
    if (existsSync(p)) return p;
  }
  throw new Error(
    `Cannot start PostgreSQL for the tests: no ${tool} under ${root} (apt-get install postgresql; .ci/run does)`,
  );
}

/** Runs a PostgreSQL tool as the postgres user when this process is root (initdb refuses root). */
async function runAsPostgres(argv: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const cmd = asRoot ? ["runuser", "-u", "postgres", "--", ...argv] : argv;
  const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) throw new Error(`Cannot run ${argv[0]}: exit ${code}\n${out}${err}`);
}

/**
 * One cluster per test file (`await using pg = await PostgresServer.start()`); each store a test opens gets a
 * database of its own from `freshDatabase()`, so tests never see each other's rows.
 */
export class PostgresServer {
  readonly port: number;
  readonly #dir: string;
  readonly #admin: InstanceType<typeof SQL>;
  #databases = 0;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.#dir = dir;
    this.#admin = new SQL({ url: this.urlOf("postgres"), max: 1 });
  }

  static async start(): Promise<PostgresServer> {
    const dir = mkdtempSync(join(tmpdir(), "pvrlink-pg-"));
    const data = join(dir, "data");
    if (process.getuid?.() === 0) {
      const uid = Number((await Bun.$`id -u postgres`.text()).trim());
      const gid = Number((await Bun.$`id -g postgres`.text()).trim());
      chownSync(dir, uid, gid);
    }
    const port = await freePort();
    // C locale: byte order, as sqlite compares; trust auth on loopback only, since the cluster lives for one test file.
    await runAsPostgres([
      postgresBin("initdb"),
      "-D",
      data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "--no-locale",
      "-E",
      "UTF8",
      "--no-sync",
    ]);
    await runAsPostgres([
      postgresBin("pg_ctl"),
      "-D",
      data,
      "-l",
      join(dir, "server.log"),
      "-w",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      "start",
    ]);
    return new PostgresServer(port, dir);
  }

  urlOf(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** A new empty database's URL. */
  async freshDatabase(): Promise<string> {
    const name = `t${++this.#databases}_${process.pid}`;
    await this.#admin.unsafe(`CREATE DATABASE ${name}`);
    return this.urlOf(name);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#admin.close();
    try {
      await runAsPostgres([
        postgresBin("pg_ctl"),
        "-D",
        join(this.#dir, "data"),
        "-m",
        "immediate",
        "-w",
        "stop",
      ]);
    } finally {
      rmSync(this.#dir, { recursive: true, force: true });
    }
  }
}
