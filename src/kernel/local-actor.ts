/**
 * An actor that runs in the calling thread.
 *
 *   const counter = new LocalActor('counter', () => {
 *     let n = 0;
 *     return { receive: (by: number) => (n += by) };
 *   });
 *   await counter.start();
 *   await counter.ask(2); // 2
 */
import {
  ActorStoppedError,
  type ActorFactory,
  type ActorInfo,
  type ActorLogic,
  type ActorRef,
  type AskOptions,
  type KernelNotice,
  type Supervisable,
} from './actor.ts';
import { Mailbox } from './mailbox.ts';

type Status = 'new' | 'running' | 'halted' | 'crashed' | 'stopped';

export const DEFAULT_ASK_TIMEOUT_MS = 5_000;

export class LocalActor<M = unknown, R = unknown> implements ActorRef<M, R>, Supervisable {
  private readonly mailbox: Mailbox<M, R>;
  private logic: ActorLogic<M, R> | undefined;
  private status: Status = 'new';
  private processing = false;
  private incarnation = 0;
  /** For info(): messages handled (answered or thrown on), when this incarnation started. */
  private handled = 0;
  private startedAt: number | null = null;
  private readonly crashListeners: ((error: Error) => void)[] = [];

  constructor(
    readonly id: string,
    private readonly factory: ActorFactory<M, R>,
    private readonly notice: KernelNotice = () => {},
  ) {
    this.mailbox = new Mailbox(id);
  }

  send(message: M): void {
    this.assertOpen();
    this.mailbox.post(message);
    this.kick();
  }

  ask(message: M, options: AskOptions = {}): Promise<R> {
    this.assertOpen();
    const { replied } = this.mailbox.post(message, options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS);
    this.kick();
    return replied;
  }

  async start(): Promise<void> {
    if (this.status === 'stopped') throw new ActorStoppedError(this.id, 'stopped for good; it cannot be restarted');
    if (this.status === 'running') return;
    this.incarnation++;
    this.logic = await this.factory({ self: this, incarnation: this.incarnation });
    this.status = 'running';
    this.startedAt = Date.now();
    this.notice('xyn.kernel.actor.started', { actor: this.id, incarnation: this.incarnation, thread: 'main' });
    this.kick();
  }

  async halt(): Promise<void> {
    if (this.status !== 'running') return;
    const logic = this.logic;
    this.status = 'halted';
    this.logic = undefined;
    await logic?.stop?.();
    this.notice('xyn.kernel.actor.stopped', { actor: this.id, incarnation: this.incarnation, reason: 'halted' });
  }

  async stop(): Promise<void> {
    if (this.status === 'stopped') return;
    const logic = this.status === 'running' ? this.logic : undefined;
    this.status = 'stopped';
    this.logic = undefined;
    this.mailbox.rejectAll(new ActorStoppedError(this.id, 'stopped'));
    await logic?.stop?.();
    this.notice('xyn.kernel.actor.stopped', { actor: this.id, incarnation: this.incarnation });
  }

  onCrash(listener: (error: Error) => void): void {
    this.crashListeners.push(listener);
  }

  info(): ActorInfo {
    const startedAt = this.status === 'running' ? this.startedAt : null;
    return { name: this.id, kind: 'local', state: this.status, mailbox: this.mailbox.size, handled: this.handled, restarts: Math.max(0, this.incarnation - 1), started_at: startedAt };
  }

  get queued(): number {
    return this.mailbox.size;
  }

  private assertOpen(): void {
    if (this.status === 'stopped') throw new ActorStoppedError(this.id, 'stopped');
  }

  private kick(): void {
    if (this.status !== 'running' || this.processing) return;
    this.processing = true;
    void this.run();
  }

  /** Hands messages to the incarnation one at a time until the mailbox is empty or it crashes. */
  private async run(): Promise<void> {
    try {
      while (this.status === 'running') {
        const envelope = this.mailbox.take();
        if (!envelope) return;
        const logic = this.logic as ActorLogic<M, R>;
        try {
          const result = await logic.receive(envelope.message);
          envelope.reply?.resolve(result);
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          envelope.reply?.reject(error);
          this.crash(error);
          return;
        } finally {
          this.handled++;
        }
      }
    } finally {
      this.processing = false;
      // A restart during an await leaves messages for the new incarnation.
      if (this.status === 'running' && this.mailbox.size > 0) this.kick();
    }
  }

  private crash(error: Error): void {
    this.status = 'crashed';
    this.logic = undefined;
    this.notice('xyn.kernel.actor.crashed', { actor: this.id, incarnation: this.incarnation, error: error.message });
    if (this.crashListeners.length === 0) {
      // Nobody will restart it: stop for good so callers are not left waiting.
      void this.stop();
      return;
    }
    for (const listener of this.crashListeners) listener(error);
  }
}
