import { hydrateRoot } from 'react-dom/client'
import { Page, type PageData } from './page'

const data = JSON.parse(document.getElementById('page-data')!.textContent!) as PageData
hydrateRoot(document.getElementById('root')!, <Page {...data} />)
