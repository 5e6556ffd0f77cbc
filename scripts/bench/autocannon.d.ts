// autocannon ships no types; this covers the programmatic call the benchmark makes.
declare module 'autocannon' {
  interface Histogram { average: number, mean: number, p50: number, p99: number, total: number }
  interface RawRequest { method?: string, path?: string, headers?: Record<string, string>, body?: string }
  interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    requests?: Array<RawRequest & { setupRequest?: (request: RawRequest) => RawRequest }>
  }
  interface Result {
    latency: Histogram
    requests: Histogram
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    /** Responses by status code. */
    statusCodeStats?: Record<string, { count: number }>
  }
  interface Instance extends PromiseLike<Result> {
    on (event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): this
  }
  export default function autocannon (options: Options): Instance
}
