import { Problem } from './problem.js'

/**
 * An application/x-www-form-urlencoded body (what OAuth clients send) as a prototype-less record,
 * for Fastify's addContentTypeParser. A parameter sent twice makes the request invalid (RFC 6749
 * section 3.2); a parameter named __proto__ or constructor is just an unknown field.
 */
export function parseFormBody (_request: unknown, body: string | Buffer, done: (error: Error | null, body?: Record<string, string>) => void): void {
  const fields: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [name, value] of new URLSearchParams(String(body))) {
    if (Object.hasOwn(fields, name)) {
      done(new Problem(400, 'invalid_request', `The parameter "${name.slice(0, 32)}" is sent more than once.`))
      return
    }
    fields[name] = value
  }
  done(null, fields)
}

/**
 * A preValidation hook for a query parameter declared as an integer: a query string is text, and
 * the value becomes a number only when it is plain digits (at most `digits`), so "0x10", " 5" and
 * "1e2" stay text and fail the schema, as JSON bodies are never coerced either.
 */
export function integerQueryParameter (name: string, digits = 3): (request: { query: unknown }) => Promise<void> {
  const plain = new RegExp(`^[0-9]{1,${digits}}$`)
  return async (request) => {
    const query = request.query as Record<string, unknown>
    const value = query[name]
    if (typeof value === 'string' && plain.test(value)) query[name] = Number(value)
  }
}
