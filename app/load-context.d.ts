import '@remix-run/node'

declare module '@remix-run/node' {
  interface AppLoadContext {
    requestId: string
    cspNonce: string
    clientIp: string | null
  }
}

declare module '@remix-run/server-runtime' {
  // Loader types follow single fetch (remix.config.js enables v3_singleFetch).
  interface Future {
    v3_singleFetch: true
  }
}
