import { Get, Render } from '@nestjs/common';
import { OnEvent, Signals, SignalTracker, StarController } from 'nestjs-datastar';
import { searchFruits } from './fruits';

const MAX_QUERY = 100;

@StarController()
export class SearchController {
  constructor(private readonly ds: SignalTracker) {}

  @Get()
  @Render('search')
  show() {
    this.ds.signal('query', '').assign('results', searchFruits(''));
  }

  @OnEvent('search', { method: 'GET' }) // GET /ds/search/search?datastar={"query":"ap"}
  search(@Signals('query') query: unknown) {
    const text = typeof query === 'string' ? query.slice(0, MAX_QUERY) : '';
    this.ds.patchElement('search-results', { locals: { query: text, results: searchFruits(text) } });
  }
}
