/**
 * @module store/event-log
 * The seam for resumable streams: every message written to an SSE stream is appended here first,
 * so a client that lost its connection can ask for everything after the last event id it saw,
 * from this instance or any other sharing the log.
 */
import type { JsonRpcMessage } from '../core/jsonrpc.ts'

export interface LoggedEvent {
  /** Position in its stream, from 1. Seq 0 is the stream's empty priming event. */
  seq: number
  message: JsonRpcMessage
}

export interface StreamInfo {
  sessionId: string
  /** True once the stream's last message (a POST stream's response) has been written. */
  ended: boolean
  /** Seq of the newest event, 0 when there is none. */
  lastSeq: number
}

export interface EventLog {
  /** Create a stream owned by a session. Opening an existing stream keeps its events. */
  open(streamId: string, sessionId: string): Promise<void>
  /** Append and return the event's seq. */
  append(streamId: string, message: JsonRpcMessage): Promise<number>
  end(streamId: string): Promise<void>
  info(streamId: string): Promise<StreamInfo | undefined>
  /** Retained events with seq greater than `seq`, oldest first. */
  after(streamId: string, seq: number): Promise<LoggedEvent[]>
  /** Forget every stream of a session (the session ended). */
  dropSession(sessionId: string): Promise<void>
  close(): Promise<void>
}
