import { redirect } from '@remix-run/node'

// The API reference at the path Carcosa's first README documented.
export async function loader() {
  return redirect('/docs/api', 301)
}
