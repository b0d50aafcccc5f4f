import type { Resend } from 'resend';
import { requestSignal, unwrapResend, type ResendResponse } from './resend.ts';

/** One subscriber as Resend's Contacts know it; `topics` names every mirrored topic, in or out. */
export interface ContactMirror {
  email: string;
  firstName: string | null;
  lastName: string | null;
  unsubscribed: boolean;
  topics: { id: string; subscription: 'opt_in' | 'opt_out' }[];
}

/**
 * The contacts port: Resend's global Contacts and Topics (resend ≥ 6.3; contacts are keyed by address
 * across the account, topics are opt-in or opt-out from their creation on). Only the Resend provider
 * has it.
 */
export interface ContactProvider {
  createTopic(topic: { name: string; description: string | null }): Promise<string>;
  /** Renames a topic (and sets its description); a topic that is gone is reported as `false`. */
  updateTopic(id: string, topic: { name: string; description: string | null }): Promise<boolean>;
  /** Deletes a topic; one that is already gone is what deleting wants. */
  removeTopic(id: string): Promise<void>;
  /** Creates the contact or brings an existing one (same address) up to date, topics included. */
  upsertContact(contact: ContactMirror): Promise<void>;
  /** Removes the contact; one that is already gone is what removing wants. */
  removeContact(email: string): Promise<void>;
}

// Conservative bounds (Resend's reference documents none): a topic is a label people see in Resend's
// preference page; an oversized tag name must not get its topic refused and stall the mirror.
const TOPIC_NAME_MAX = 50;
const TOPIC_DESCRIPTION_MAX = 200;

/**
 * `slot` runs each single request (the rate gate: Resend counts requests, and an upsert may take three),
 * so the adapter never sends more than the account's requests per second whatever it is asked to do.
 */
export function createResendContacts(client: Resend, slot: <T>(request: () => Promise<T>) => Promise<T> = (request) => request()): ContactProvider {
  return {
    async createTopic(topic) {
      const response = await slot(() =>
        client.topics.create(
          {
            name: topic.name.slice(0, TOPIC_NAME_MAX),
            ...(topic.description ? { description: topic.description.slice(0, TOPIC_DESCRIPTION_MAX) } : {}),
            // Nobody is in a topic until they chose it here: the mirror sets each contact's choice explicitly.
            defaultSubscription: 'opt_out',
          },
          { signal: requestSignal() },
        ),
      );
      return unwrapResend(response as ResendResponse<{ id: string }>).id;
    },

    async updateTopic(id, topic) {
      const response = (await slot(() =>
        client.topics.update(
          // No description is left out rather than sent empty (Resend documents no empty one): clearing it here keeps the old one there.
          { id, name: topic.name.slice(0, TOPIC_NAME_MAX), ...(topic.description ? { description: topic.description.slice(0, TOPIC_DESCRIPTION_MAX) } : {}) },
          { signal: requestSignal() },
        ),
      )) as ResendResponse<unknown>;
      if (response.error?.name === 'not_found') return false;
      unwrapResend(response);
      return true;
    },

    async removeTopic(id) {
      const response = (await slot(() => client.topics.remove(id, { signal: requestSignal() }))) as ResendResponse<unknown>;
      if (response.error?.name === 'not_found') return;
      unwrapResend(response);
    },

    async upsertContact(contact) {
      const fields = { unsubscribed: contact.unsubscribed, firstName: contact.firstName, lastName: contact.lastName };
      const updated = (await slot(() => client.contacts.update({ email: contact.email, ...fields }, { signal: requestSignal() }))) as ResendResponse<unknown>;
      if (updated.error?.name === 'not_found') {
        const created = await slot(() =>
          client.contacts.create(
            { email: contact.email, unsubscribed: contact.unsubscribed, ...names(contact), topics: contact.topics },
            { signal: requestSignal() },
          ),
        );
        unwrapResend(created as ResendResponse<unknown>);
        return;
      }
      unwrapResend(updated);
      if (contact.topics.length === 0) return;
      const topics = await slot(() => client.contacts.topics.update({ email: contact.email, topics: contact.topics }, { signal: requestSignal() }));
      unwrapResend(topics as ResendResponse<unknown>);
    },

    async removeContact(email) {
      const response = (await slot(() => client.contacts.remove({ email }, { signal: requestSignal() }))) as ResendResponse<unknown>;
      if (response.error?.name === 'not_found') return;
      unwrapResend(response);
    },
  };
}

const names = (contact: ContactMirror) => ({
  ...(contact.firstName ? { firstName: contact.firstName } : {}),
  ...(contact.lastName ? { lastName: contact.lastName } : {}),
});
