// The sample's counter DTO (sample/src/counter/counter.signals.ts), shared by ours and the peer so
// both sides validate exactly the same class-validator metadata.
import { IsInt, Max, Min } from 'class-validator';

export class CounterSignals {
  @IsInt() @Min(0) @Max(1_000_000_000)
  count!: number;
}
