import { Type, type Static } from 'typebox';
import { NullableTimestamp, Timestamp } from '../common.schemas.ts';

export const ContactSyncStatus = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Whether this organization mirrors its subscribers to Resend Contacts' }),
    available: Type.Boolean({ description: 'Whether the Resend provider is configured on this installation (the sync needs it)' }),
    taken: Type.Boolean({ description: 'Another organization of this installation already mirrors to the Resend account' }),
    full_sync_requested_at: Type.Union([Timestamp, Type.Null()], {
      description: 'When every subscriber was last queued (turned on, or "sync everything now")',
    }),
    full_sync_finished_at: Type.Union([Timestamp, Type.Null()], { description: 'When that full sync had sent everything; null while it runs' }),
    last_round_at: NullableTimestamp,
    pending: Type.Integer({ description: 'Changes waiting to be sent' }),
    failed: Type.Integer({ description: 'Changes Resend refused five times; they are no longer tried until the subscriber changes again' }),
    detached: Type.Integer({ description: 'Subscribers whose contact was deleted at Resend and who are no longer mirrored' }),
    last_error: Type.Union([
      Type.Object(
        {
          code: Type.String({ description: 'rate_limited, unavailable, quota_exceeded, rejected or internal' }),
          message: Type.String({ description: 'What went wrong, in plain words' }),
          at: Timestamp,
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);
export type ContactSyncStatusDto = Static<typeof ContactSyncStatus>;

export const FullSyncResponse = Type.Object({ queued: Type.Integer({ description: 'Subscribers queued to be sent again' }) }, { additionalProperties: false });
