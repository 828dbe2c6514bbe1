import { IsInt, Max, Min } from 'class-validator';

/** What the counter page sends: validated before the handler runs. */
export class CounterSignals {
  @IsInt() @Min(0) @Max(1_000_000_000)
  count!: number;
}
