import { z } from 'zod'
import { PRESET_NAME_PATTERN, TransformParamsError, paramsFromObject, type TransformParams } from './params'

export const presetNameSchema = z
  .string({ error: 'Preset name is required' })
  .trim()
  .min(1, 'Preset name is required')
  .max(64, 'Preset name must be at most 64 characters')
  .regex(PRESET_NAME_PATTERN, 'Preset name must be lower-case letters, digits, - and _, starting with a letter or digit, e.g. thumbnail')

/**
 * Transform parameters as a JSON object (`{ "w": 300, "format": "webp" }`), checked by the same
 * parsers as a URL's query; each bad parameter is reported under its own name.
 */
export const transformParamsObjectSchema = (options: { allowPreset: boolean }) =>
  z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]), { error: 'Parameters must be an object of names and values' })
    .transform((input, ctx): TransformParams => {
      try {
        return paramsFromObject(input, options)
      } catch (error) {
        if (!(error instanceof TransformParamsError)) throw error
        for (const [name, messages] of Object.entries(error.errors)) {
          for (const message of messages) ctx.addIssue({ code: 'custom', path: [name], message: `${name} ${message}` })
        }
        return z.NEVER
      }
    })

const projectIdSchema = z.string().min(1).max(64)

export const createPresetSchema = z.object({
  projectId: projectIdSchema.optional().describe("The project; an API key's own project when omitted"),
  name: presetNameSchema,
  params: transformParamsObjectSchema({ allowPreset: false }).describe('Transform parameters, e.g. { "w": 300, "h": 300, "fit": "cover" }'),
})

export const updatePresetSchema = z
  .object({ name: presetNameSchema.optional(), params: transformParamsObjectSchema({ allowPreset: false }).optional() })
  .refine((input) => input.name !== undefined || input.params !== undefined, { message: 'Give a new name, new parameters, or both' })

export const MIN_EXPIRES_IN = 60
export const MAX_EXPIRES_IN = 365 * 24 * 3600

export const expiresInSchema = z
  .number({ error: 'expiresIn must be a number of seconds' })
  .int('expiresIn must be a whole number of seconds')
  .min(MIN_EXPIRES_IN, `expiresIn must be at least ${MIN_EXPIRES_IN} seconds`)
  .max(MAX_EXPIRES_IN, `expiresIn must be at most ${MAX_EXPIRES_IN} seconds (a year)`)

/** A file path as transform URLs name it: project-relative, no empty, `.` or `..` segments. */
export const filePathSchema = z
  .string({ error: 'path is required' })
  .min(1, 'path is required')
  .max(1024, 'path must be at most 1024 characters')
  .refine((path) => !path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..') && !path.includes('\0'), {
    message: 'path must be a project-relative file path such as avatars/me.jpg',
  })

export const signUrlSchema = z.object({
  projectId: projectIdSchema.optional().describe("The project; an API key's own project when omitted"),
  path: filePathSchema.describe("The file's project-relative path"),
  params: transformParamsObjectSchema({ allowPreset: true }).default({}).describe('Transform parameters, a preset name among them'),
  expiresIn: expiresInSchema.default(3600).describe('Seconds until the URL stops working (60 to a year; default an hour)'),
})

/** Most URLs one call signs: a responsive image's widths for a page of images. */
export const MAX_URLS_PER_SIGNING = 100

export const signUrlsSchema = z.object({
  projectId: projectIdSchema.optional().describe("The project; an API key's own project when omitted"),
  items: z
    .array(signUrlSchema.omit({ projectId: true }))
    .min(1, 'items must name at least one file')
    .max(MAX_URLS_PER_SIGNING, `items may hold at most ${MAX_URLS_PER_SIGNING} URLs to sign`)
    .describe('The URLs to sign, each a path with its parameters and lifetime; answered in the same order'),
})

export type CreatePresetInput = z.output<typeof createPresetSchema>
export type UpdatePresetInput = z.output<typeof updatePresetSchema>
export type SignUrlInput = z.output<typeof signUrlSchema>

/** Parameters typed as a query string in the dashboard (`w=300&h=300&fit=cover`). */
const paramsTextSchema = z
  .string({ error: 'Parameters are required, e.g. w=300&h=300&fit=cover' })
  .trim()
  .max(1000, 'Parameters must be at most 1000 characters')
  .transform((text, ctx): TransformParams => {
    const search = new URLSearchParams(text.replace(/^\?/, ''))
    try {
      return paramsFromObject(Object.fromEntries(search), { allowPreset: false })
    } catch (error) {
      if (!(error instanceof TransformParamsError)) throw error
      ctx.addIssue({
        code: 'custom',
        message: Object.entries(error.errors)
          .map(([name, messages]) => `${name} ${messages.join('; ')}`)
          .join('. '),
      })
      return z.NEVER
    }
  })

export const presetFormSchema = z.object({ name: presetNameSchema, params: paramsTextSchema })

export const presetIdFormSchema = z.object({ presetId: z.string().min(1).max(64) })

export const transformSettingsFormSchema = z.object({
  access: z.enum(['signed', 'public'], { error: 'Choose signed or public' }),
  presetsOnly: z.boolean().default(false),
  allowAnimated: z.boolean().default(false),
})

/** The URL builder's GET form: every field optional, numbers as typed. */
export const urlBuilderSchema = z.object({
  path: filePathSchema,
  preset: z.string().optional(),
  w: z.string().optional(),
  h: z.string().optional(),
  fit: z.string().optional(),
  format: z.string().optional(),
  quality: z.string().optional(),
  expiresIn: z.coerce.number().pipe(expiresInSchema).default(3600),
})
