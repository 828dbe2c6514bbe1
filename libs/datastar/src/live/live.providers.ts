/** The live-view providers, as DatastarModule registers them. */
import type { Provider } from '@nestjs/common';
import { LiveCluster } from './live-cluster';
import { LiveEndpoints } from './live-endpoints.service';
import { LiveExplorer } from './live.explorer';
import { LiveRoutes } from './live.routes';
import { LivePageRenderer } from './live-page.renderer';
import { LiveRuntime } from './live-runtime.service';
import { LiveSessionsService } from './live-sessions.service';
import { LiveSessionStorage } from './live-store';
import { LiveViewRegistry } from './live-view.registry';

/** The live-view providers of DatastarModule. */
export const LIVE_PROVIDERS: Provider[] = [
  LiveViewRegistry, LiveSessionsService, LiveCluster, LiveSessionStorage, LiveRuntime, LivePageRenderer, LiveEndpoints, LiveExplorer, LiveRoutes,
];
