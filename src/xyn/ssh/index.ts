/** SSH for ssh.run: the node's known_hosts, one command over a connection, and why either fails. */
export { KnownHostsFile, fingerprintOf, hostEntryName } from './known-hosts.ts';
export { runSshCommand, type SshAuth, type SshCommand, type SshCommandResult } from './session.ts';
export { SshAuthError, SshConnectError, SshExitError, SshHostKeyChangedError, SshKeyError, SshPortMissingError } from './errors.ts';
