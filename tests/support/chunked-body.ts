/**
 * HTTP/1.1 chunked transfer decoding for the raw-socket SSE clients (the bench's and the
 * tests'): feed what the socket delivers after the head, get the body text it carries.
 */
export class ChunkedBody {
  /** The last chunk (size 0) arrived: the response is over. */
  ended = false;
  private buffer = "";
  /** Bytes left in the current chunk; -2 while its trailing CRLF is awaited. */
  private left = 0;

  feed(data: string): string {
    this.buffer += data;
    let text = "";
    while (!this.ended) {
      if (this.left > 0) {
        const take = Math.min(this.left, this.buffer.length);
        text += this.buffer.slice(0, take);
        this.buffer = this.buffer.slice(take);
        this.left -= take;
        if (this.left > 0) break;
        this.left = -2;
      }
      if (this.left === -2) {
        if (this.buffer.length < 2) break;
        this.buffer = this.buffer.slice(2);
        this.left = 0;
      }
      const eol = this.buffer.indexOf("\r\n");
      if (eol < 0) break;
      this.left = Number.parseInt(this.buffer.slice(0, eol), 16);
      this.buffer = this.buffer.slice(eol + 2);
      if (this.left === 0) this.ended = true;
    }
    return text;
  }
}
