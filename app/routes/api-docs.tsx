// The interactive API reference at the path Carcosa's first README documented: the same page as
// /docs/api, whose operations each lead to a try-it form (/api-docs/try/<operation id>).
export { default, loader, meta } from './docs.api'
