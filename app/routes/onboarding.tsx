import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { PageHeader } from '~/components/layout'
import { createOrganization, listOrganizations } from '~/services/workspaces/organizations.server'
import { createProject, listProjects } from '~/services/workspaces/projects.server'
import { createOrganizationSchema, createProjectSchema, createTeamSchema } from '~/services/workspaces/schemas'
import { createTeam, listTeams } from '~/services/workspaces/teams.server'
import type { UserActor } from '~/services/actor'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { projectPath } from '~/utils/paths'
import { DASHBOARD_PAGE } from '~/services/pagination'

export const meta: MetaFunction = () => [{ title: 'Get started · Carcosa' }]

/**
 * First run: organization, then team, then project. The step follows from what exists, so the
 * flow resumes where it was left and every step is a plain form.
 */
async function currentStep(actor: UserActor, url: URL) {
  const { items: organizations } = await listOrganizations(actor, DASHBOARD_PAGE)
  const wanted = url.searchParams.get('org')
  const organization = organizations.find((o) => o.slug === wanted) ?? organizations.find((o) => o.role === 'OWNER') ?? organizations[0]
  if (!organization) return { step: 1 as const }
  const { items: teams } = await listTeams(actor, organization.id, DASHBOARD_PAGE)
  const team = teams.find((t) => t.slug === url.searchParams.get('team')) ?? teams[0]
  if (!team) return { step: 2 as const, organization }
  const { items: projects } = await listProjects(actor, team.id, DASHBOARD_PAGE)
  return { step: 3 as const, organization, team, done: projects[0] ?? null }
}

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const state = await currentStep(actor, new URL(request.url))
  if (state.step === 3 && state.done) throw redirect(projectPath(state.organization, state.team, state.done))
  return {
    step: state.step,
    organization: state.step > 1 ? { name: state.organization!.name, slug: state.organization!.slug } : null,
    team: state.step === 3 ? { name: state.team!.name, slug: state.team!.slug } : null,
  }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  if (intent === 'create-organization') {
    return handleForm(formData, intent, createOrganizationSchema, async (input) => {
      const organization = await createOrganization(actor, input)
      return redirectWithFlash(`/onboarding?org=${organization.slug}`, {
        kind: 'success',
        message: `Organization ${organization.name} created.`,
      })
    })
  }
  const state = await currentStep(actor, new URL(request.url))
  if (intent === 'create-team' && state.step >= 2) {
    return handleForm(formData, intent, createTeamSchema, async (input) => {
      const team = await createTeam(actor, state.organization!.id, input)
      return redirectWithFlash(`/onboarding?org=${state.organization!.slug}&team=${team.slug}`, {
        kind: 'success',
        message: `Team ${team.name} created.`,
      })
    })
  }
  if (intent === 'create-project' && state.step === 3) {
    return handleForm(formData, intent, createProjectSchema, async (input) => {
      const project = await createProject(actor, state.team!.id, input)
      return redirectWithFlash(projectPath(state.organization!, state.team!, project), {
        kind: 'success',
        message: `Project ${project.name} created. You are all set.`,
      })
    })
  }
  throw redirect('/onboarding')
}

const STEPS = ['Organization', 'Team', 'Project']

export default function Onboarding() {
  const { step, organization, team } = useLoaderData<typeof loader>()
  const orgForm = useIntentForm('create-organization', createOrganizationSchema)
  const teamForm = useIntentForm('create-team', createTeamSchema)
  const projectForm = useIntentForm('create-project', createProjectSchema)
  return (
    <div className="mx-auto max-w-lg">
      <PageHeader title="Set up your workspace" description="Carcosa organizes media as organization → team → project. Three short steps." />
      <ol className="mb-6 flex gap-2 text-sm" aria-label="Progress">
        {STEPS.map((label, index) => (
          <li
            key={label}
            aria-current={index + 1 === step ? 'step' : undefined}
            className={`flex-1 rounded-md border px-3 py-2 ${
              index + 1 === step
                ? 'border-indigo-500 bg-indigo-50 font-semibold text-indigo-800'
                : index + 1 < step
                  ? 'border-green-200 bg-green-50 text-green-800'
                  : 'border-slate-200 bg-white text-slate-500'
            }`}
          >
            Step {index + 1}: {label}
          </li>
        ))}
      </ol>
      <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        {step === 1 ? (
          <IntentForm form={orgForm[0]} intent="create-organization">
            <h2 className="text-lg font-semibold">Name your organization</h2>
            <TextField label="Organization name" field={orgForm[1].name} />
            <TextField
              label="Organization slug (optional)"
              field={orgForm[1].slug}
              hint="Used in URLs and storage paths. Lowercase letters, digits and hyphens; derived from the name when empty."
            />
            <SubmitButton>Create organization</SubmitButton>
          </IntentForm>
        ) : step === 2 ? (
          <IntentForm form={teamForm[0]} intent="create-team">
            <h2 className="text-lg font-semibold">Create a team in {organization?.name}</h2>
            <TextField label="Team name" field={teamForm[1].name} />
            <TextField label="Team slug (optional)" field={teamForm[1].slug} hint="Derived from the name when empty." />
            <SubmitButton>Create team</SubmitButton>
          </IntentForm>
        ) : (
          <IntentForm form={projectForm[0]} intent="create-project">
            <h2 className="text-lg font-semibold">Create a project in {team?.name}</h2>
            <TextField label="Project name" field={projectForm[1].name} />
            <TextField label="Project slug (optional)" field={projectForm[1].slug} hint="Derived from the name when empty." />
            <SubmitButton>Create project</SubmitButton>
          </IntentForm>
        )}
      </div>
    </div>
  )
}
