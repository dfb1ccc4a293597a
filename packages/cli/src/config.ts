import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import envPaths from 'env-paths'

/** A saved login: where Carcosa is and the project API key to use there. */
export interface Profile {
  url: string
  apiKey: string
  projectId?: string
}

interface ConfigFile {
  profiles: Record<string, Profile>
}

const paths = envPaths('carcosa', { suffix: '' })

/** The user's config directory (XDG_CONFIG_HOME/carcosa on Linux); never the project folder. */
export const configDir = () => process.env.CARCOSA_CONFIG_DIR ?? paths.config
/** Where resumable upload state lives (XDG_DATA_HOME/carcosa on Linux). */
export const stateDir = () => process.env.CARCOSA_STATE_DIR ?? paths.data
export const configFile = () => path.join(configDir(), 'config.json')

export async function readConfig(): Promise<ConfigFile> {
  let text: string
  try {
    text = await fs.readFile(configFile(), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} }
    throw error
  }
  const parsed = JSON.parse(text) as Partial<ConfigFile>
  return { profiles: parsed.profiles ?? {} }
}

/**
 * Writes a file readable by its owner only (0600, in a 0700 directory), replacing it in one rename
 * so a crash never leaves half a file.
 */
export async function writePrivateFile(file: string, text: string) {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`
  await fs.writeFile(temporary, text, { mode: 0o600 })
  await fs.chmod(temporary, 0o600)
  await fs.rename(temporary, file)
}

export async function saveProfile(name: string, profile: Profile | null) {
  const config = await readConfig()
  if (profile) config.profiles[name] = profile
  else delete config.profiles[name]
  await writePrivateFile(configFile(), `${JSON.stringify(config, null, 2)}\n`)
}

export const profileName = (option: string | undefined) => option ?? process.env.CARCOSA_PROFILE ?? 'default'

/** The profile's URL and key, each overridden by CARCOSA_URL and CARCOSA_API_KEY when set. */
export async function resolveConnection(profileOption: string | undefined): Promise<{ url?: string; apiKey?: string; profile: string }> {
  const profile = profileName(profileOption)
  const saved = (await readConfig()).profiles[profile]
  return {
    profile,
    url: process.env.CARCOSA_URL || saved?.url,
    apiKey: process.env.CARCOSA_API_KEY || saved?.apiKey,
  }
}
