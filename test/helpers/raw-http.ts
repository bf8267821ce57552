/**
 * Raw HTTP/1.1 connections for tests of slow, silent and broken clients: open a socket, write a request head by
 * hand, and read back what the server answered and when it closed the connection.
 */
import { connect, type Socket } from "node:net";

/** A raw connection: what it received, and when the server closed it (ms after opening). */
export interface Raw {
  socket: Socket;
  received(): string;
  closed: Promise<number>;
}

/** Opens a TCP connection to 127.0.0.1:`port`. */
export function open(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (d: Buffer) => (data += d.toString()));
    socket.on("error", () => undefined); // a reset after the answer is part of what is tested
    const closed = new Promise<number>((r) => socket.once("close", () => r(Date.now() - started)));
    socket.once("connect", () => resolve({ socket, received: () => data, closed }));
    socket.once("error", reject);
  });
}

/** Request head of a POST to the webhook path. */
export function head(headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `POST /webhooks/intercom HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join("")}\r\n`;
}

/** Status line, and the parsed JSON body of a raw HTTP answer. */
export function parseAnswer(raw: string): { status: number; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
  const text = raw.slice(raw.indexOf("\r\n\r\n") + 4);
  return { status, body: text ? (JSON.parse(text) as unknown) : undefined };
}
