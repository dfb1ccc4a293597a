import { createContext, useContext } from 'react'

const NonceContext = createContext<string>('')

/** Carries the per-request CSP nonce from entry.server into the document's scripts. */
export const NonceProvider = NonceContext.Provider
export const useNonce = () => useContext(NonceContext)
