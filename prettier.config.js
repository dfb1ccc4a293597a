// Matches how Carcosa's code is written: no semicolons, single quotes, trailing commas, long lines.
// 145 columns is the width at which Prettier would change the fewest existing lines (measured 2026-11-29).
export default {
  semi: false,
  singleQuote: true,
  trailingComma: 'all',
  printWidth: 145,
}
