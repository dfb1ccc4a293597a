/**
 * Metering overhead per request (target: under 2 µs): what the API pipeline (answerApiCall) and a transform add,
 * on a meter holding 10,000 live entries, against a bare Map increment as the reference.
 * Run: npm run bench:usage-meter
 */
import { UsageMeter } from '~/services/usage/meter.server'

const ITERATIONS = 2_000_000
const projects = Array.from({ length: 100 }, (_, i) => `project-${i.toString().padStart(20, '0')}`)
const tenants = Array.from({ length: 100 }, (_, i) => `tenant-${i.toString().padStart(21, '0')}`)

function timePerCall(label: string, body: (i: number) => void) {
  for (let i = 0; i < 200_000; i++) body(i) // warm-up
  const started = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) body(i)
  const ns = Number(process.hrtime.bigint() - started) / ITERATIONS
  console.log(`${label.padEnd(52)} ${ns.toFixed(0).padStart(6)} ns/call`)
  return ns
}

const meter = new UsageMeter(1_000_000)
for (const project of projects) for (const tenant of tenants) meter.count(project, tenant, 'uploads')
const reference = new Map<string, number>()
const base = timePerCall('reference: Map increment on a fixed key', (i) => reference.set('k', (reference.get('k') ?? 0) + i))
const apiCall = timePerCall('API call of a key (tier, status class, totals)', (i) => meter.countApiCall(projects[i % 100]!, 'READ', 200))
const transform = timePerCall('transform cache hit (hits and bytes of a tenant)', (i) => {
  meter.count(projects[i % 100]!, tenants[(i >> 7) % 100]!, 'transformCacheHits')
  meter.count(projects[i % 100]!, tenants[(i >> 7) % 100]!, 'transformBytes', 2048)
})
console.log(
  `\nratio to the reference: API call ${(apiCall / base).toFixed(1)}x, transform ${(transform / base).toFixed(1)}x; target < 2000 ns: ${Math.max(apiCall, transform) < 2000 ? 'met' : 'MISSED'}`,
)
