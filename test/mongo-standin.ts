import { createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'
import { BSON } from 'mongodb'
import { aggregate, find, Query, update } from 'mingo'

/**
 * A MongoDB stand-in that speaks the wire protocol (OP_MSG, and OP_QUERY for the first hello) on
 * a real port, so the real driver connects, pools, times out and reconnects against it. No MongoDB
 * server can be installed on these machines; this runs the commands the store sends (find, insert,
 * update, delete, findAndModify, createIndexes, listIndexes, collMod) over documents in memory,
 * with query and update semantics from mingo and unique indexes enforced as E11000. It can stop
 * and start again on the same port, stall chosen commands and fail them with server error codes.
 * It is single-node and applies each command to completion before the next: MongoDB's per-document
 * atomicity, which is all the store relies on.
 */

type Doc = Record<string, unknown>
interface IndexSpec { name: string, key: Record<string, number>, unique?: boolean, expireAfterSeconds?: number }
interface Collection { docs: Doc[], indexes: IndexSpec[] }

const OP_REPLY = 1
const OP_QUERY = 2004
const OP_MSG = 2013

class CommandError extends Error {
  constructor (readonly code: number, message: string, readonly codeName = '') {
    super(message)
  }
}

export interface Standin {
  url: string
  port: number
  /** Commands (by name: find, insert, findAndModify, ...) that are read and never answered. */
  stalled: Set<string>
  /** The next command of that name answers with this server error instead. */
  failNext (command: string, error: { code: number, errmsg?: string, codeName?: string, labels?: string[] }): void
  /** Direct access to the data, e.g. to plant a duplicate before the indexes exist. */
  collection (db: string, name: string): Collection
  /** How many commands of each name were answered. */
  counts: Map<string, number>
  /** Stops listening and cuts every connection (the server went away). */
  stop (): Promise<void>
  /** Listens again on the same port (the server came back); data survives. */
  start (): Promise<void>
}

export async function startStandin (port = 0): Promise<Standin> {
  const databases = new Map<string, Map<string, Collection>>()
  const sockets = new Set<Socket>()
  const failures = new Map<string, { code: number, errmsg?: string, codeName?: string, labels?: string[] }>()
  const counts = new Map<string, number>()
  let server: Server | undefined
  let connectionId = 0

  const collection = (db: string, name: string): Collection => {
    let collections = databases.get(db)
    if (collections === undefined) databases.set(db, collections = new Map())
    let found = collections.get(name)
    if (found === undefined) collections.set(name, found = { docs: [], indexes: [{ name: '_id_', key: { _id: 1 } }] })
    return found
  }

  const handle = (command: Doc, sequences: Record<string, Doc[]>): Doc => {
    const name = Object.keys(command)[0] ?? ''
    const db = String(command.$db ?? 'admin')
    const failure = failures.get(name)
    if (failure !== undefined) {
      failures.delete(name)
      return { ok: 0, errmsg: failure.errmsg ?? 'injected failure', code: failure.code, codeName: failure.codeName ?? '', ...(failure.labels === undefined ? {} : { errorLabels: failure.labels }) }
    }
    counts.set(name, (counts.get(name) ?? 0) + 1)
    try {
      return { ...run(name, db, command, sequences), ok: 1 }
    } catch (error) {
      if (error instanceof CommandError) return { ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName }
      return { ok: 0, errmsg: (error as Error).message, code: 1, codeName: 'InternalError' }
    }
  }

  const run = (name: string, db: string, command: Doc, sequences: Record<string, Doc[]>): Doc => {
    const target = (): Collection => collection(db, String(command[name]))
    switch (name.toLowerCase()) {
      case 'hello':
      case 'ismaster':
        return {
          helloOk: true,
          ismaster: true,
          isWritablePrimary: true,
          maxBsonObjectSize: 16 * 1024 * 1024,
          maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000,
          localTime: new Date(),
          logicalSessionTimeoutMinutes: 30,
          connectionId: ++connectionId,
          minWireVersion: 0,
          maxWireVersion: 21,
          readOnly: false
        }
      case 'ping':
      case 'endsessions':
      case 'buildinfo':
        return {}
      case 'dropdatabase':
        databases.delete(db)
        return {}
      case 'insert': {
        const coll = target()
        const documents = (command.documents as Doc[] | undefined) ?? sequences.documents ?? []
        const writeErrors: Doc[] = []
        let n = 0
        documents.forEach((document, index) => {
          try {
            insert(coll, db, String(command.insert), document)
            n++
          } catch (error) {
            writeErrors.push(writeError(error, index))
          }
        })
        return { n, ...(writeErrors.length === 0 ? {} : { writeErrors }) }
      }
      case 'update': {
        const coll = target()
        const updates = (command.updates as Doc[] | undefined) ?? sequences.updates ?? []
        let n = 0
        let nModified = 0
        const upserted: Doc[] = []
        const writeErrors: Doc[] = []
        updates.forEach((spec, index) => {
          try {
            const result = modify(coll, db, String(command.update), spec.q as Doc, spec.u as Doc | Doc[], spec.upsert === true)
            if (result.upserted !== undefined) upserted.push({ index, _id: result.upserted._id })
            else if (result.matched !== undefined) { n++; nModified++ }
            if (result.upserted !== undefined) n++
          } catch (error) {
            writeErrors.push(writeError(error, index))
          }
        })
        return { n, nModified, ...(upserted.length === 0 ? {} : { upserted }), ...(writeErrors.length === 0 ? {} : { writeErrors }) }
      }
      case 'delete': {
        const coll = target()
        const deletes = (command.deletes as Doc[] | undefined) ?? sequences.deletes ?? []
        let n = 0
        for (const spec of deletes) {
          const query = new Query(spec.q as Doc)
          for (let i = 0; i < coll.docs.length; i++) {
            if (query.test(coll.docs[i] as Doc)) {
              coll.docs.splice(i--, 1)
              n++
              if (spec.limit === 1) break
            }
          }
        }
        return { n }
      }
      case 'find': {
        const coll = target()
        let cursor = find(coll.docs, (command.filter as Doc | undefined) ?? {}, command.projection as Doc | undefined)
        if (command.sort !== undefined) cursor = cursor.sort(command.sort as Record<string, 1 | -1>)
        if (typeof command.limit === 'number' && command.limit > 0) cursor = cursor.limit(command.limit)
        const batch = cursor.all().map((doc) => structuredClone(doc))
        return { cursor: { id: BSON.Long.fromNumber(0), ns: `${db}.${String(command.find)}`, firstBatch: batch } }
      }
      case 'findandmodify': {
        const coll = target()
        const query = command.query as Doc
        if (command.remove === true) {
          const index = coll.docs.findIndex((doc) => new Query(query).test(doc))
          const removed = index < 0 ? null : coll.docs.splice(index, 1)[0] ?? null
          return { lastErrorObject: { n: removed === null ? 0 : 1 }, value: removed }
        }
        try {
          const result = modify(coll, db, String(command.findAndModify), query, command.update as Doc | Doc[], command.upsert === true)
          const after = result.upserted ?? result.matched
          const value = command.new === true ? after : result.before
          const projected = value === undefined || value === null ? null : project(value, command.fields as Doc | undefined)
          return {
            lastErrorObject: { n: after === undefined ? 0 : 1, updatedExisting: result.matched !== undefined, ...(result.upserted === undefined ? {} : { upserted: result.upserted._id }) },
            value: projected
          }
        } catch (error) {
          if (error instanceof CommandError) throw error
          throw error
        }
      }
      case 'createindexes': {
        const coll = target()
        const before = coll.indexes.length
        for (const spec of command.indexes as IndexSpec[]) createIndex(coll, db, String(command.createIndexes), spec)
        return { numIndexesBefore: before, numIndexesAfter: coll.indexes.length, createdCollectionAutomatically: false }
      }
      case 'listindexes': {
        const coll = target()
        return { cursor: { id: BSON.Long.fromNumber(0), ns: `${db}.${String(command.listIndexes)}`, firstBatch: coll.indexes.map((index) => ({ v: 2, ...index })) } }
      }
      case 'collmod': {
        const coll = target()
        const change = command.index as { name: string, expireAfterSeconds: number }
        const index = coll.indexes.find((candidate) => candidate.name === change.name)
        if (index === undefined) throw new CommandError(27, `cannot find index ${change.name}`, 'IndexNotFound')
        const old = index.expireAfterSeconds
        index.expireAfterSeconds = change.expireAfterSeconds
        return { expireAfterSeconds_old: old, expireAfterSeconds_new: change.expireAfterSeconds }
      }
      default:
        throw new CommandError(59, `no such command: '${name}'`, 'CommandNotFound')
    }
  }

  const duplicateCheck = (coll: Collection, db: string, name: string, candidate: Doc, ignore?: Doc): void => {
    for (const index of coll.indexes) {
      if (index.unique !== true && index.name !== '_id_') continue
      const fields = Object.keys(index.key)
      const values = fields.map((field) => JSON.stringify(candidate[field] ?? null))
      const clash = coll.docs.find((doc) => doc !== ignore && fields.every((field, i) => JSON.stringify(doc[field] ?? null) === values[i]))
      if (clash !== undefined) {
        throw new CommandError(11000, `E11000 duplicate key error collection: ${db}.${name} index: ${index.name} dup key: { ${fields.map((f, i) => `${f}: ${values[i] ?? ''}`).join(', ')} }`, 'DuplicateKey')
      }
    }
  }

  const insert = (coll: Collection, db: string, name: string, document: Doc): Doc => {
    const stored = structuredClone(document)
    stored._id ??= new BSON.ObjectId()
    duplicateCheck(coll, db, name, stored)
    coll.docs.push(stored)
    return stored
  }

  /** Applies an update (operators, pipeline or replacement) to the first match, or upserts. */
  const modify = (coll: Collection, db: string, name: string, filter: Doc, change: Doc | Doc[], upsert: boolean): { matched?: Doc, before?: Doc, upserted?: Doc } => {
    const query = new Query(filter)
    const index = coll.docs.findIndex((doc) => query.test(doc))
    if (index >= 0) {
      const current = coll.docs[index] as Doc
      const before = structuredClone(current)
      const next = applyChange(structuredClone(current), change, false)
      duplicateCheck(coll, db, name, next, current)
      coll.docs[index] = next
      return { matched: next, before }
    }
    if (!upsert) return {}
    const base: Doc = {}
    for (const [field, value] of Object.entries(filter)) {
      if (!field.startsWith('$') && (value === null || typeof value !== 'object' || value instanceof Date || Array.isArray(value) || !Object.keys(value).some((key) => key.startsWith('$')))) base[field] = value
    }
    const created = applyChange(base, change, true)
    return { upserted: insert(coll, db, name, created) }
  }

  const applyChange = (doc: Doc, change: Doc | Doc[], inserting: boolean): Doc => {
    if (Array.isArray(change)) {
      const id = doc._id
      const [next] = aggregate([doc], change) as Doc[]
      return { ...(id === undefined ? {} : { _id: id }), ...next }
    }
    const operators = Object.keys(change).some((key) => key.startsWith('$'))
    if (!operators) return { ...(doc._id === undefined ? {} : { _id: doc._id }), ...structuredClone(change) }
    const { $setOnInsert: onInsert, ...rest } = change as Doc & { $setOnInsert?: Doc }
    if (Object.keys(rest).length > 0) update(doc, rest, undefined, undefined, { cloneMode: 'deep' })
    if (inserting && onInsert !== undefined) update(doc, { $set: onInsert }, undefined, undefined, { cloneMode: 'deep' })
    return doc
  }

  const createIndex = (coll: Collection, db: string, name: string, spec: IndexSpec): void => {
    const sameName = coll.indexes.find((index) => index.name === spec.name)
    const sameKey = coll.indexes.find((index) => JSON.stringify(index.key) === JSON.stringify(spec.key))
    const options = (index: IndexSpec): string => JSON.stringify({ unique: index.unique === true, ttl: index.expireAfterSeconds })
    if (sameName !== undefined && JSON.stringify(sameName.key) !== JSON.stringify(spec.key)) {
      throw new CommandError(86, `An existing index has the same name as the requested index but a different key. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName)}`, 'IndexKeySpecsConflict')
    }
    if (sameKey !== undefined) {
      if (sameKey.name === spec.name && options(sameKey) === options(spec)) return
      throw new CommandError(85, `An existing index has the same key as the requested index but different options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameKey)}`, 'IndexOptionsConflict')
    }
    if (spec.unique === true) {
      const seen = new Set<string>()
      for (const doc of coll.docs) {
        const value = JSON.stringify(Object.keys(spec.key).map((field) => doc[field] ?? null))
        if (seen.has(value)) throw new CommandError(11000, `E11000 duplicate key error collection: ${db}.${name} index: ${spec.name} dup key: ${value}`, 'DuplicateKey')
        seen.add(value)
      }
    }
    coll.indexes.push({ name: spec.name, key: spec.key, ...(spec.unique === true ? { unique: true } : {}), ...(spec.expireAfterSeconds === undefined ? {} : { expireAfterSeconds: spec.expireAfterSeconds }) })
  }

  const onSocket = (socket: Socket): void => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let pending = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 16 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0)
        const message = pending.subarray(0, length)
        pending = pending.subarray(length)
        answer(socket, message)
      }
    })
  }

  const answer = (socket: Socket, message: Buffer): void => {
    const requestId = message.readInt32LE(4)
    const opCode = message.readInt32LE(12)
    if (opCode === OP_QUERY) {
      let offset = 20
      while (message[offset] !== 0) offset++
      offset += 9 // the collection name's NUL, numberToSkip, numberToReturn
      const size = message.readInt32LE(offset)
      const query = BSON.deserialize(message.subarray(offset, offset + size))
      const reply = handle(query, {})
      const body = BSON.serialize(reply)
      const header = Buffer.alloc(36)
      header.writeInt32LE(36 + body.length, 0)
      header.writeInt32LE(requestId + 1_000_000, 4)
      header.writeInt32LE(requestId, 8)
      header.writeInt32LE(OP_REPLY, 12)
      header.writeInt32LE(8, 16) // AwaitCapable
      header.writeBigInt64LE(0n, 20)
      header.writeInt32LE(0, 28)
      header.writeInt32LE(1, 32)
      socket.write(Buffer.concat([header, body]))
      return
    }
    if (opCode !== OP_MSG) {
      socket.destroy()
      return
    }
    const flags = message.readUInt32LE(16)
    const end = message.length - ((flags & 1) === 1 ? 4 : 0)
    let offset = 20
    let command: Doc = {}
    const sequences: Record<string, Doc[]> = {}
    while (offset < end) {
      const kind = message[offset++]
      const size = message.readInt32LE(offset)
      if (kind === 0) {
        command = BSON.deserialize(message.subarray(offset, offset + size))
        offset += size
      } else {
        const sectionEnd = offset + size
        let cursor = offset + 4
        const nameEnd = message.indexOf(0, cursor)
        const identifier = message.subarray(cursor, nameEnd).toString('utf8')
        cursor = nameEnd + 1
        const docs: Doc[] = []
        while (cursor < sectionEnd) {
          const docSize = message.readInt32LE(cursor)
          docs.push(BSON.deserialize(message.subarray(cursor, cursor + docSize)))
          cursor += docSize
        }
        sequences[identifier] = docs
        offset = sectionEnd
      }
    }
    const name = Object.keys(command)[0] ?? ''
    if (standin.stalled.has(name)) return
    const body = BSON.serialize(handle(command, sequences))
    const header = Buffer.alloc(21)
    header.writeInt32LE(21 + body.length, 0)
    header.writeInt32LE(requestId + 1_000_000, 4)
    header.writeInt32LE(requestId, 8)
    header.writeInt32LE(OP_MSG, 12)
    header.writeUInt32LE(0, 16)
    header.writeUInt8(0, 20)
    socket.write(Buffer.concat([header, body]))
  }

  const listen = async (onPort: number): Promise<number> => {
    server = createServer(onSocket)
    await new Promise<void>((resolve, reject) => {
      server?.once('error', reject)
      server?.listen(onPort, '127.0.0.1', () => { resolve() })
    })
    return (server.address() as AddressInfo).port
  }

  const boundPort = await listen(port)
  const standin: Standin = {
    url: `mongodb://127.0.0.1:${boundPort}/?directConnection=true`,
    port: boundPort,
    stalled: new Set(),
    counts,
    failNext (command, error) { failures.set(command, error) },
    collection,
    async stop () {
      const closing = server
      server = undefined
      for (const socket of sockets) socket.destroy()
      if (closing !== undefined) await new Promise<void>((resolve) => { closing.close(() => { resolve() }) })
    },
    async start () {
      if (server === undefined) await listen(boundPort)
    }
  }
  return standin
}

function writeError (error: unknown, index: number): Doc {
  const failure = error instanceof CommandError ? error : new CommandError(1, (error as Error).message)
  return { index, code: failure.code, errmsg: failure.message }
}

function project (doc: Doc, fields: Doc | undefined): Doc {
  if (fields === undefined || Object.keys(fields).length === 0) return structuredClone(doc)
  const [projected] = find([doc], {}, fields).all() as Doc[]
  return structuredClone(projected ?? {})
}
