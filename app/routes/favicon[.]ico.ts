import { redirect } from '@remix-run/node'

// Browsers ask for /favicon.ico whatever the page declares; the icon is an SVG.
export function loader() {
  return redirect('/favicon.svg', 301)
}
