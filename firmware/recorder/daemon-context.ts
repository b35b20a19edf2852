/** @module What every start-up step of the recorder daemon shares: its configuration, identity, node client and log. */
import type { ControlClient } from "../../protocol/control-client.ts";
import type { DeviceCredential } from "../config/credential-store.ts";
import type { RecorderConfig } from "../config/recorder-config.ts";
import type { DaemonLog } from "./daemon-log.ts";

export interface DaemonContext {
  readonly config: RecorderConfig;
  readonly credential: DeviceCredential;
  readonly client: ControlClient;
  readonly log: DaemonLog;
  /** Something shown in the status file changed; bound to the daemon once it exists (a no-op before). */
  readonly changed: () => void;
}
