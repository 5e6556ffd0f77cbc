/** The release: package.json, the OpenAPI info and /health all say this (test/docs.test.ts checks package.json agrees). */
export const VERSION = '0.2.0'
