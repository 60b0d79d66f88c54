import type { IncomingMessage, Server } from 'node:http';
import { Socket } from 'node:net';

/** How long a closing connection may go on sending the rest of a refused request body. */
export const LINGER_MS = 5000;

/**
 * Lingering close for answers sent before the request body arrived (a 413 on the Content-Length
 * alone). On a `Connection: close` request (and Fastify closes after a 413) Node ends the socket
 * right after such an answer; the body bytes still arriving then meet a closed socket, the kernel
 * answers them with a reset, and the reset makes the client drop the answer it had not read yet:
 * it sees ECONNRESET or EPIPE instead of the 413. Here the socket sends its FIN after the answer
 * and goes on reading (Node's parser discards the body) until the client closes its side, or
 * for at most `lingerMs`, as nginx's `lingering_close` does.
 *
 * Node's HTTP server calls `socket.destroySoon()` when it exists and `socket.end()` otherwise;
 * this replaces it on each connection of `server`.
 */
export function lingerAfterEarlyAnswers(server: Server, lingerMs = LINGER_MS): void {
  const lastRequest = new WeakMap<Socket, IncomingMessage>();
  server.on('request', (request: IncomingMessage) => {
    lastRequest.set(request.socket, request);
  });
  server.on('connection', (socket: Socket) => {
    socket.destroySoon = function destroySoon(this: Socket): void {
      const request = lastRequest.get(this);
      if (!request || request.complete || this.readableEnded) {
        Socket.prototype.destroySoon.call(this);
        return;
      }
      this.end();
      const cap = setTimeout(() => this.destroy(), lingerMs);
      cap.unref();
      // Both sides ended: Node destroys the socket by itself; the cap is then not needed.
      this.once('close', () => clearTimeout(cap));
    };
  });
}
