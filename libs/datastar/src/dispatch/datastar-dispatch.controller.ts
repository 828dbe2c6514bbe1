import { Controller, Delete, Get, Next, Param, Patch, Post, Put, Req, Res, type Type } from '@nestjs/common';
import { DatastarDispatcher } from './datastar-dispatcher.service';

const ROUTE = ':controller/:event';

/**
 * A fresh dispatch controller class per `forRoot()`: its route prefix (the `path` option) is set
 * from the options once they are known, which also works for `forRootAsync()`.
 */
export function createDispatchController(): Type {
  @Controller()
  class DatastarDispatchController {
    constructor(private readonly dispatcher: DatastarDispatcher) {}

    @Get(ROUTE)
    get(@Param('controller') c: string, @Param('event') e: string, @Req() req: unknown, @Res() res: unknown, @Next() next: unknown) {
      return this.dispatcher.dispatch(c, e, req, res, next);
    }

    @Post(ROUTE)
    post(@Param('controller') c: string, @Param('event') e: string, @Req() req: unknown, @Res() res: unknown, @Next() next: unknown) {
      return this.dispatcher.dispatch(c, e, req, res, next);
    }

    @Put(ROUTE)
    put(@Param('controller') c: string, @Param('event') e: string, @Req() req: unknown, @Res() res: unknown, @Next() next: unknown) {
      return this.dispatcher.dispatch(c, e, req, res, next);
    }

    @Patch(ROUTE)
    patch(@Param('controller') c: string, @Param('event') e: string, @Req() req: unknown, @Res() res: unknown, @Next() next: unknown) {
      return this.dispatcher.dispatch(c, e, req, res, next);
    }

    @Delete(ROUTE)
    delete(@Param('controller') c: string, @Param('event') e: string, @Req() req: unknown, @Res() res: unknown, @Next() next: unknown) {
      return this.dispatcher.dispatch(c, e, req, res, next);
    }
  }
  return DatastarDispatchController;
}
