import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

export class SendSignals {
  @IsString() @IsNotEmpty() @MaxLength(500)
  message!: string;

  @IsOptional() @IsString() @MaxLength(40)
  name?: string;
}
