import { createServer } from 'node:http'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

export type Answer = (request: ReceivedRequest, response: ServerResponse) => void

export interface FakeProvider {
  baseUrl: string
  received: ReceivedRequest[]
  /** How the next requests are answered; replaced freely during a test. */
  answer: Answer
}

/** A real HTTP server on 127.0.0.1:0 that records every request and answers as told. */
export async function startFakeProvider (t: Pick<Test, 'teardown'>, answer: Answer): Promise<FakeProvider> {
  const provider: FakeProvider = { baseUrl: '', received: [], answer }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const received = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') }
      provider.received.push(received)
      provider.answer(received, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  provider.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => { resolve() })
  }))
  return provider
}

export function reply (status: number, body: unknown, contentType = 'application/json'): Answer {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': contentType })
    response.end(typeof body === 'string' ? body : JSON.stringify(body))
  }
}

/** Never answers (until the server closes): a provider that hangs. */
export const hang: Answer = () => {}

/** Closes the connection without an HTTP answer. */
export const drop: Answer = (_request, response) => { response.socket?.destroy() }
