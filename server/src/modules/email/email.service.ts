import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import { sha256Hex } from '../../lib/crypto.ts';
import { notFound, unprocessable } from '../../lib/errors.ts';
import { isUuid, newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import type { Logger } from '../../logger.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import {
  footerLocale,
  footerStrings,
  withPreheader,
  type FooterLocale,
  type PreviewInput,
  type RenderableTemplate,
  type RenderedEmail,
  type TemplateCategory,
  type TemplateForSend,
  type TemplateRenderer,
  type TemplateService,
} from '../templates/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { BatchMessage, EmailRepository, MessageStatus, NewMessage, OrganizationProfile, Recipient, UnrenderedMessage } from './email.repository.ts';
import type { EmailLinks } from './links.ts';
import { marketingHeaders, senderHeaders } from './headers.ts';
import { resolveSender } from './sender.ts';
import { rewriteForTracking, rewriteTextForTracking, untrackedLinks } from './tracking.ts';

export interface SendInput {
  template_slug?: string;
  template_id?: string;
  to: string;
  variables?: Record<string, unknown>;
  idempotency_key?: string;
}

/** What a campaign sets on each of its emails beyond the template. */
export interface CampaignSettings {
  id: string;
  templateId: string;
  subject: string | null;
  /** Shown by inboxes after the subject; plain text, hidden at the top of the body. */
  preheader?: string | null;
  fromName: string | null;
  replyTo: string | null;
  /** Open and click tracking for this campaign (also needs the organization's tracking on). */
  tracking: boolean;
  /** The A/B test variant these settings are of (its subject, sender or template), if any. */
  variant?: number;
}

const SUPPRESSED_STATUSES = new Set(['bounced', 'complained']);
// The subscriber id test emails are rendered for: no subscriber has it.
const TEST_SUBSCRIBER_ID = '00000000-0000-7000-8000-000000000000';

/** Everything a campaign's emails are rendered from, frozen once per campaign (message_contents.recipe). */
export interface CampaignRecipe {
  kind: 'campaign';
  campaignId: string;
  template: RenderableTemplate & { version: string };
  organization: OrganizationProfile;
  from: string;
  replyTo: string | null;
  tracked: boolean;
}

/**
 * Everything an automation send step's emails are rendered from, frozen once per automation version and
 * step (message_contents.recipe): the same shape as a campaign's, without a campaign and without tracking.
 */
export interface AutomationRecipe extends Omit<CampaignRecipe, 'kind' | 'campaignId' | 'tracked'> {
  kind: 'automation';
  automationId: string;
  campaignId: null;
  tracked: false;
}

/** A preview renders inert links (see links.ts previewUrl); only a real send gets working ones. */
type RenderPurpose = 'send' | 'preview';

// A draft (unsaved edits in a preview) has no version, so the renderer does not cache it.
export const renderable = (template: TemplateForSend & { draft?: boolean }): RenderableTemplate => ({
  id: template.id,
  version: template.draft ? null : String(template.version),
  subject: template.subject,
  compiledHtml: template.compiled_html,
  variablesSchema: template.variables_schema,
});

// Thrown inside the transaction to roll back the quota reservation when the idempotency key won a race.
class KeyTaken extends Error {}

/**
 * Longest subject accepted after rendering. A header line may not exceed 998 characters (RFC 5322) and
 * an unbroken subject cannot be folded; mailbox providers show far fewer characters anyway.
 */
export const MAX_SUBJECT_LENGTH = 250;

export function checkSubject(subject: string): void {
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw unprocessable('subject_too_long', `The rendered subject is longer than ${MAX_SUBJECT_LENGTH} characters`, [
      { field: 'subject', message: `has ${subject.length} characters after rendering` },
    ]);
  }
}

/**
 * MJML writes `<html lang="und">`; screen readers and translation prompts need the language the email
 * is written in: the subscriber's when they have one (its footer uses the same), else the organization's.
 */
function withLanguage(html: string, locale: string): string {
  // Locales are stored canonically ("de-AT", "zh-Hant-TW"); anything else falls back to English.
  const lang = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/.test(locale) ? locale : 'en';
  return html.replace(/^(\s*<!doctype html>\s*<html\b[^>]*?\blang=")und(")/i, `$1${lang}$2`);
}

/** Marketing mail must say who sends it and where (CAN-SPAM, and the footer's second line). */
function requirePostalAddress(organization: OrganizationProfile): void {
  if (!organization.postal_address?.trim()) {
    throw unprocessable('postal_address_missing', "Marketing email needs the organization's postal address; set it in the organization settings first", [
      { field: 'postal_address', message: 'is not set' },
    ]);
  }
}

/**
 * Transactional sending: checks and renders in the request (so a bad template, a missing variable, a
 * suppressed recipient or a used-up plan is a clear 4xx now, not a failed job later), stores the rendered
 * message with its quota reservation in one transaction, and enqueues the send after commit. The stored
 * body makes every retry send exactly the same request, which the provider's idempotency key requires.
 */
export function createEmailService(deps: {
  config: Pick<Config, 'EMAIL_DEFAULT_FROM'>;
  db: Kysely<DB>;
  logger: Logger;
  emailRepository: EmailRepository;
  templates: TemplateService;
  renderer: TemplateRenderer;
  links: EmailLinks;
  producer: JobProducer;
  entitlements: Pick<Entitlements, 'reserveEmails'>;
  /** Verified sending-domain names of an organization; null when the provider cannot verify domains. */
  verifiedDomains: (organizationId: string) => Promise<string[] | null>;
}) {
  const { db, emailRepository: repo, templates, renderer, links } = deps;

  async function profile(organizationId: string): Promise<OrganizationProfile> {
    const organization = await repo.organizationProfile(organizationId);
    if (!organization) throw notFound('organization');
    return organization;
  }

  /** Variables every template gets: the recipient, the organization, its links and the footer's words. */
  function systemVariables(
    organization: OrganizationProfile,
    recipient: Recipient | null,
    email: string,
    category: TemplateCategory,
    purpose: RenderPurpose,
    knownUrl?: string,
  ) {
    const url =
      knownUrl ??
      (purpose === 'preview'
        ? links.previewUrl(organization.id, recipient?.id ?? null)
        : recipient
          ? links.unsubscribeUrl(organization.id, recipient.id)
          : null);
    return {
      subscriber: recipient
        ? { id: recipient.id, email: recipient.email, first_name: recipient.first_name, last_name: recipient.last_name, metadata: recipient.metadata }
        : { id: null, email, first_name: null, last_name: null, metadata: {} },
      organization: { name: organization.name, postal_address: organization.postal_address },
      preference_center_url: url,
      unsubscribe_url: url,
      ...(category === 'marketing' ? { footer: footerStrings(recipient?.locale ?? organization.locale, organization.name) } : {}),
    };
  }

  async function resolveRecipient(organizationId: string, to: string): Promise<{ email: string; recipient: Recipient | null }> {
    if (isUuid(to)) {
      const recipient = await repo.recipientById(organizationId, to);
      if (!recipient) throw notFound('subscriber');
      return { email: recipient.email, recipient };
    }
    const email = to.trim();
    return { email, recipient: (await repo.recipientByEmail(organizationId, email)) ?? null };
  }

  async function checkRecipient(organizationId: string, email: string, recipient: Recipient | null, category: TemplateCategory): Promise<void> {
    if ((recipient && SUPPRESSED_STATUSES.has(recipient.status)) || (await repo.isBlocked(organizationId, email))) {
      throw unprocessable('recipient_suppressed', 'The recipient bounced, complained or is on the suppression list; nothing is sent to them', [
        { field: 'to', message: 'is suppressed' },
      ]);
    }
    if (category === 'marketing' && recipient?.status !== 'active') {
      throw unprocessable('recipient_not_subscribed', 'Marketing email goes only to active subscribers', [
        { field: 'to', message: recipient ? `is ${recipient.status}` : 'is not a subscriber' },
      ]);
    }
  }

  async function render(
    organization: OrganizationProfile,
    template: TemplateForSend & { draft?: boolean },
    recipient: Recipient | null,
    email: string,
    variables: Record<string, unknown>,
    purpose: RenderPurpose,
  ): Promise<RenderedEmail> {
    const prepared = renderable(template);
    renderer.checkVariables(prepared, variables);
    const rendered = await renderer.render(prepared, { ...variables, ...systemVariables(organization, recipient, email, template.category, purpose) });
    return { ...rendered, html: withLanguage(rendered.html, recipient?.locale ?? organization.locale) };
  }

  async function send(organizationId: string, input: SendInput, headerKey?: string): Promise<{ id: string; status: MessageStatus }> {
    const key = input.idempotency_key ?? headerKey ?? null;
    const variables = input.variables ?? {};
    const ref = input.template_id ? { id: input.template_id } : { slug: input.template_slug! };
    const requestHash = key ? sha256Hex(JSON.stringify([ref, input.to, variables])) : null;
    if (key) {
      const existing = await repo.findByIdempotencyKey(organizationId, key);
      if (existing) {
        if (existing.request_hash !== requestHash) throw unprocessable('idempotency_key_reused', 'This idempotency key was already used for a different email');
        return { id: existing.id, status: existing.status };
      }
    }

    const template = await templates.forSend(organizationId, ref);
    const [organization, { email, recipient }] = await Promise.all([profile(organizationId), resolveRecipient(organizationId, input.to)]);
    if (template.category === 'marketing') requirePostalAddress(organization);
    await checkRecipient(organizationId, email, recipient, template.category);
    const rendered = await render(organization, template, recipient, email, variables, 'send');
    checkSubject(rendered.subject);
    const from = resolveSender(organization, { defaultFrom: deps.config.EMAIL_DEFAULT_FROM, verifiedDomains: await deps.verifiedDomains(organizationId) });
    const headers = {
      ...senderHeaders(organization),
      ...(template.category === 'marketing' && recipient
        ? {
            ...links.listUnsubscribeHeaders(links.unsubscribeUrl(organizationId, recipient.id)),
            ...marketingHeaders(organization, from, { templateId: template.id }),
          }
        : {}),
    };

    const id = newId();
    try {
      await db.transaction().execute(async (trx) => {
        const inserted = await repo.insertMessage(trx, organizationId, {
          id,
          template_id: template.id,
          subscriber_id: recipient?.id ?? null,
          campaign_id: null,
          category: template.category,
          to_address: email,
          from_address: from,
          subject: rendered.subject,
          html: rendered.html,
          text: rendered.text,
          headers,
          idempotency_key: key,
          request_hash: requestHash,
        });
        if (!inserted) throw new KeyTaken();
        // Last before commit: the organization's row stays locked for one round trip only, so one
        // organization's concurrent sends do not queue behind each other's inserts.
        await deps.entitlements.reserveEmails(trx, organizationId, 1);
      });
    } catch (error) {
      if (!(error instanceof KeyTaken)) throw error;
      // A concurrent request with the same key committed first: answer as a replay.
      return send(organizationId, input, headerKey);
    }
    try {
      await deps.producer.enqueue('email.send', { message_id: id });
    } catch (error) {
      // The message is committed as queued; the sweep enqueues it once Redis answers again.
      deps.logger.error({ err: error, email_message_id: id }, 'could not enqueue an email; the sweep will retry');
    }
    return { id, status: 'queued' as const };
  }

  /**
   * A test of a template, transactional or marketing, to the signed-in team member's own address: rendered
   * for a sample subscriber with the given variables, subject marked "[Test]", linked to no subscriber and
   * no campaign. The address need not be a subscriber (that is what made tests of marketing templates
   * fail); a suppressed address still gets nothing. Counts against the month's quota like any email.
   */
  async function sendTest(
    organizationId: string,
    input: { templateId: string; userId: string; variables: Record<string, unknown> },
  ): Promise<{ id: string; to: string }> {
    const to = await repo.userEmail(input.userId);
    if (!to) throw notFound('user');
    const template = await templates.forSend(organizationId, { id: input.templateId });
    const organization = await profile(organizationId);
    if (template.category === 'marketing') requirePostalAddress(organization);
    if (await repo.isBlocked(organizationId, to)) {
      throw unprocessable('recipient_suppressed', 'Your address is on the suppression list; remove it there to get test emails', [
        { field: 'to', message: 'is suppressed' },
      ]);
    }
    // The links name a subscriber that does not exist, so a click in a test unsubscribes nobody.
    const sample: Recipient = { id: TEST_SUBSCRIBER_ID, email: to, status: 'active', first_name: 'Ada', last_name: 'Example', metadata: {}, locale: null };
    const rendered = await render(organization, template, sample, to, input.variables, 'send');
    const subject = `[Test] ${rendered.subject}`;
    checkSubject(subject);
    const from = resolveSender(organization, { defaultFrom: deps.config.EMAIL_DEFAULT_FROM, verifiedDomains: await deps.verifiedDomains(organizationId) });
    const headers = {
      ...senderHeaders(organization),
      ...(template.category === 'marketing'
        ? {
            ...links.listUnsubscribeHeaders(links.unsubscribeUrl(organizationId, sample.id)),
            ...marketingHeaders(organization, from, { templateId: template.id }),
          }
        : {}),
      'X-Subscribe-Flow-Test': 'true',
    };
    const id = newId();
    await db.transaction().execute(async (trx) => {
      await repo.insertMessage(trx, organizationId, {
        id,
        template_id: template.id,
        subscriber_id: null,
        campaign_id: null,
        category: template.category,
        to_address: to,
        from_address: from,
        subject,
        html: rendered.html,
        text: rendered.text,
        headers,
        idempotency_key: null,
        request_hash: null,
      });
      await deps.entitlements.reserveEmails(trx, organizationId, 1);
    });
    await deps.producer.enqueue('email.send', { message_id: id });
    return { id, to };
  }

  /**
   * What a campaign's emails are rendered from, read and checked once: the template (its MJML was compiled
   * when it was saved), the organization's footer data, the sender and tracking. A campaign is marketing
   * mail, so it needs a marketing template and the organization's postal address for the footer. The
   * campaign freezes the result (message_contents) when it first sends, so every email of it, and every
   * retry of a batch, is rendered from the same data.
   */
  async function campaignRecipe(organizationId: string, campaign: CampaignSettings): Promise<CampaignRecipe> {
    const template = await templates.forSend(organizationId, { id: campaign.templateId });
    if (template.category !== 'marketing') {
      throw unprocessable('template_not_marketing', 'A campaign sends a marketing template (it carries the unsubscribe footer)', [
        { field: 'template_id', message: 'is a transactional template' },
      ]);
    }
    const organization = await profile(organizationId);
    // The same check and error as transactional marketing mail (a blank address is no address either).
    requirePostalAddress(organization);
    const from = resolveSender(
      { ...organization, email_from_name: campaign.fromName ?? organization.email_from_name },
      { defaultFrom: deps.config.EMAIL_DEFAULT_FROM, verifiedDomains: await deps.verifiedDomains(organizationId) },
    );
    // The campaign's own subject replaces the template's and its preheader joins the body; the version names the
    // template's, the campaign, the A/B variant and those two texts, so parses are cached apart (a draft's edited
    // subject or preheader is never served from an older parse).
    const base = renderable(template);
    const prepared = {
      ...base,
      compiledHtml: withPreheader(base.compiledHtml, campaign.preheader),
      subject: campaign.subject ?? template.subject,
      version: `${template.version}/${campaign.id}${campaign.variant === undefined ? '' : `/v${campaign.variant}`}/${sha256Hex(`${campaign.subject ?? ''}\u0000${campaign.preheader ?? ''}`).slice(0, 16)}`,
    };
    renderer.checkVariables(prepared, {});
    return {
      kind: 'campaign',
      campaignId: campaign.id,
      template: prepared as CampaignRecipe['template'],
      organization,
      from,
      replyTo: campaign.replyTo,
      tracked: campaign.tracking && organization.tracking_enabled,
    };
  }

  // What every email of a recipe shares (the organization's variables and footer words), built once per
  // recipe and footer language instead of once per recipient; dropped with the recipe.
  type Shared = { organization: { name: string; postal_address: string | null }; footer: ReturnType<typeof footerStrings> };
  const recipeShared = new WeakMap<CampaignRecipe | AutomationRecipe, Map<FooterLocale, Shared>>();
  function sharedOf(recipe: CampaignRecipe | AutomationRecipe, recipient: Recipient): Shared {
    let byLanguage = recipeShared.get(recipe);
    if (!byLanguage) recipeShared.set(recipe, (byLanguage = new Map()));
    const { organization } = recipe;
    const language = footerLocale(recipient.locale ?? organization.locale);
    let shared = byLanguage.get(language);
    if (!shared) {
      shared = {
        organization: { name: organization.name, postal_address: organization.postal_address },
        footer: footerStrings(language, organization.name),
      };
      byLanguage.set(language, shared);
    }
    return shared;
  }

  /** The variables of a campaign email: the recipient, the organization, the footer and the campaign's unsubscribe link. */
  function campaignVariables(recipe: CampaignRecipe | AutomationRecipe, recipient: Recipient, knownUrl?: string) {
    // One link for both footer entries; "Manage preferences" asks for the topics, "Unsubscribe" gets the unsubscribe card.
    // At send time it is the link the message's List-Unsubscribe header already holds (signed once, at the claim).
    const url = knownUrl ?? links.unsubscribeUrl(recipe.organization.id, recipient.id, recipe.campaignId ?? undefined);
    const shared = sharedOf(recipe, recipient);
    // The same variables systemVariables() gives a marketing email, with the shared parts reused.
    return {
      url,
      variables: {
        subscriber: {
          id: recipient.id,
          email: recipient.email,
          first_name: recipient.first_name,
          last_name: recipient.last_name,
          metadata: recipient.metadata,
        },
        organization: shared.organization,
        footer: shared.footer,
        unsubscribe_url: url,
        preference_center_url: `${url}?view=manage`,
      },
    };
  }

  /**
   * A campaign email's body, rendered when it is sent (and again, identically, for the email log): the
   * recipe's Liquid with the recipient's data, the organization's language, and the tracking links, which
   * name the message and its creation time so that every rendering of it is the same.
   */
  async function renderCampaignBody(
    recipe: CampaignRecipe | AutomationRecipe,
    recipient: Recipient,
    message: { id: string; created_at: Date; headers?: Record<string, string> },
  ): Promise<{ html: string; text: string }> {
    const listUnsubscribe = /^<(https?:\/\/[^<>\s]+)>$/.exec(message.headers?.['List-Unsubscribe'] ?? '')?.[1];
    const rendered = await renderer.renderBody(recipe.template, campaignVariables(recipe, recipient, listUnsubscribe).variables);
    let html = withLanguage(rendered.html, recipient.locale ?? recipe.organization.locale);
    let text = rendered.text;
    if (recipe.kind === 'campaign' && recipe.tracked) {
      // Privacy mode signs no message id into the links: only the campaign's aggregates are counted.
      const urls = links.tracking({
        organizationId: recipe.organization.id,
        campaignId: recipe.campaignId,
        messageId: recipe.organization.tracking_privacy ? null : message.id,
        sentAt: message.created_at.getTime(),
      });
      // The text part gets the same signed links; what the author marked data-notrack stays as it is there too.
      const untracked = untrackedLinks(html);
      text = rewriteTextForTracking(text, urls.link, (url) => links.isOwnLink(url) || untracked.has(url));
      html = rewriteForTracking(html, { pixel: urls.pixel(), trap: urls.trap(), link: urls.link }, links.isOwnLink);
    }
    return { html, text };
  }

  // Recipes never change once stored: the worker keeps the recently used ones.
  const recipes = new Map<string, CampaignRecipe | AutomationRecipe>();
  async function recipeOf(contentId: string): Promise<CampaignRecipe | AutomationRecipe> {
    let recipe = recipes.get(contentId);
    if (!recipe) {
      recipe = (await repo.contentRecipe(contentId)) as CampaignRecipe | AutomationRecipe | undefined;
      if (!recipe) throw notFound('message content');
      recipes.set(contentId, recipe);
      if (recipes.size > 64) recipes.delete(recipes.keys().next().value!);
    }
    return recipe;
  }

  const recipientOf = (message: BatchMessage): Recipient => ({
    id: message.subscriber_id ?? TEST_SUBSCRIBER_ID,
    email: message.subscriber_email ?? message.to_address,
    status: message.subscriber_status ?? 'active',
    first_name: message.first_name,
    last_name: message.last_name,
    metadata: message.metadata ?? {},
    locale: message.locale ?? null,
  });

  /** The body of a message whose body is not stored: rendered from its content now. */
  async function bodyOf(message: BatchMessage): Promise<{ html: string; text: string }> {
    if (message.html !== null && message.text !== null) return { html: message.html, text: message.text };
    if (!message.content_id) throw new Error(`email ${message.id} has neither a body nor a content`);
    return renderCampaignBody(await recipeOf(message.content_id), recipientOf(message), message);
  }

  /**
   * Prepares a campaign's emails from its frozen recipe: each message gets its subject (rendered now: the
   * email log lists it), headers, an unsubscribe link naming the campaign and a reference to the content;
   * its body is rendered when it is sent. Nothing is stored here: the campaign inserts the messages in the
   * transaction that claims their recipients.
   */
  function campaignBatchComposer(contentId: string | null, recipe: CampaignRecipe) {
    const organization = recipe.organization;
    // The headers every email of the campaign carries, built once; only List-Unsubscribe differs by recipient.
    const sender = senderHeaders(organization);
    const marketing = marketingHeaders(organization, recipe.from, { campaignId: recipe.campaignId, templateId: recipe.template.id });
    return {
      async compose(recipient: Recipient, round: number): Promise<UnrenderedMessage> {
        const { url, variables } = campaignVariables(recipe, recipient);
        const subject = await renderer.renderSubject(recipe.template, variables);
        return {
          id: newId(),
          template_id: recipe.template.id,
          subscriber_id: recipient.id,
          campaign_id: recipe.campaignId,
          category: 'marketing',
          to_address: recipient.email,
          from_address: recipe.from,
          subject,
          html: null,
          text: null,
          content_id: contentId,
          // The same headers as every marketing email (Reply-To, List-Id, Feedback-ID by campaign); the
          // campaign's own Reply-To wins over the organization's.
          headers: {
            ...sender,
            ...links.listUnsubscribeHeaders(url),
            ...marketing,
            ...(recipe.replyTo ? { 'Reply-To': recipe.replyTo } : {}),
          },
          // One message per recipient and round: a second insert for the same claim is refused by the key.
          idempotency_key: `campaign/${recipe.campaignId}/${recipient.id}/${round}`,
          request_hash: null,
        };
      },
    };
  }

  /**
   * A campaign's emails rendered in full now and stored with their body (test emails of a campaign, which
   * go through the per-message send path): the same subject, headers and body as the batch path renders.
   */
  async function campaignComposer(organizationId: string, campaign: CampaignSettings) {
    const recipe = await campaignRecipe(organizationId, campaign);
    const lazy = campaignBatchComposer(null, recipe);
    return {
      async compose(recipient: Recipient, round: number): Promise<NewMessage> {
        const { content_id: _content, ...message } = await lazy.compose(recipient, round);
        const body = await renderCampaignBody(recipe, recipient, { id: message.id, created_at: new Date() });
        return { ...message, ...body };
      },
    };
  }

  /**
   * Renders an automation's email for its recipients: the same marketing template checks, sender,
   * List-Unsubscribe and headers as campaign mail, attributed to the automation (`automation_id`, its
   * Feedback-ID). One message per run and step: the idempotency key refuses a second one.
   */
  async function automationComposer(organizationId: string, automation: { id: string; templateId: string }) {
    const template = await templates.forSend(organizationId, { id: automation.templateId });
    if (template.category !== 'marketing') {
      throw unprocessable('template_not_marketing', 'An automation sends a marketing template (it carries the unsubscribe footer)', [
        { field: 'template_id', message: 'is a transactional template' },
      ]);
    }
    const organization = await profile(organizationId);
    if (!organization.postal_address) {
      throw unprocessable('postal_address_missing', "Marketing email must show the organization's postal address; set it in the organization settings first", [
        { field: 'postal_address', message: 'is not set' },
      ]);
    }
    const from = resolveSender(organization, { defaultFrom: deps.config.EMAIL_DEFAULT_FROM, verifiedDomains: await deps.verifiedDomains(organizationId) });
    const prepared = renderable(template);
    renderer.checkVariables(prepared, {});
    return {
      async compose(recipient: Recipient, key: { runId: string; stepIndex: number }): Promise<NewMessage> {
        const url = links.unsubscribeUrl(organizationId, recipient.id);
        const rendered = await renderer.render(prepared, {
          ...systemVariables(organization, recipient, recipient.email, 'marketing', 'send'),
          unsubscribe_url: url,
          preference_center_url: `${url}?view=manage`,
        });
        return {
          id: newId(),
          template_id: template.id,
          subscriber_id: recipient.id,
          campaign_id: null,
          automation_id: automation.id,
          category: 'marketing',
          to_address: recipient.email,
          from_address: from,
          subject: rendered.subject,
          html: withLanguage(rendered.html, recipient.locale ?? organization.locale),
          text: rendered.text,
          headers: {
            ...senderHeaders(organization),
            ...links.listUnsubscribeHeaders(url),
            ...marketingHeaders(organization, from, { campaignId: automation.id, templateId: template.id }),
          },
          idempotency_key: `automation/${key.runId}/${key.stepIndex}`,
          request_hash: null,
        };
      },
    };
  }

  /**
   * What an automation send step's emails are rendered from, read and checked once per version and step
   * (the automation freezes it in message_contents): a marketing template, the organization's postal
   * address, the sender. Throws the same errors as the per-message composer.
   */
  async function automationRecipe(organizationId: string, automation: { id: string; templateId: string }): Promise<AutomationRecipe> {
    const template = await templates.forSend(organizationId, { id: automation.templateId });
    if (template.category !== 'marketing') {
      throw unprocessable('template_not_marketing', 'An automation sends a marketing template (it carries the unsubscribe footer)', [
        { field: 'template_id', message: 'is a transactional template' },
      ]);
    }
    const organization = await profile(organizationId);
    requirePostalAddress(organization);
    const from = resolveSender(organization, { defaultFrom: deps.config.EMAIL_DEFAULT_FROM, verifiedDomains: await deps.verifiedDomains(organizationId) });
    const prepared = renderable(template);
    renderer.checkVariables(prepared, {});
    return {
      kind: 'automation',
      automationId: automation.id,
      campaignId: null,
      template: prepared as AutomationRecipe['template'],
      organization,
      from,
      replyTo: null,
      tracked: false,
    };
  }

  /**
   * Prepares an automation's emails from its frozen recipe, like campaignBatchComposer: subject (rendered
   * now), headers (List-Unsubscribe, Feedback-ID by automation), the reference to the content and the key
   * `automation/<run>/<step>` (one message per run and step); the body is rendered when the batch is sent.
   */
  function automationBatchComposer(contentId: string, recipe: AutomationRecipe) {
    const subjectOnly = { ...recipe.template, compiledHtml: '', version: `${recipe.template.version}/subject` };
    const organization = recipe.organization;
    return {
      async compose(recipient: Recipient, key: { runId: string; stepIndex: number }): Promise<UnrenderedMessage> {
        const { url, variables } = campaignVariables(recipe, recipient, links.unsubscribeUrl(organization.id, recipient.id));
        const { subject } = await renderer.render(subjectOnly, variables);
        return {
          id: newId(),
          template_id: recipe.template.id,
          subscriber_id: recipient.id,
          campaign_id: null,
          automation_id: recipe.automationId,
          category: 'marketing',
          to_address: recipient.email,
          from_address: recipe.from,
          subject,
          html: null,
          text: null,
          content_id: contentId,
          headers: {
            ...senderHeaders(organization),
            ...links.listUnsubscribeHeaders(url),
            ...marketingHeaders(organization, recipe.from, { campaignId: recipe.automationId, templateId: recipe.template.id }),
          },
          idempotency_key: `automation/${key.runId}/${key.stepIndex}`,
          request_hash: null,
        };
      },
    };
  }

  return {
    send,
    automationRecipe,
    automationBatchComposer,
    campaignRecipe,
    campaignComposer,
    campaignBatchComposer,
    bodyOf,

    /** The body of one of the organization's messages as sent (rendered again when not stored); undefined when it has none to render. */
    async renderedBody(organizationId: string, id: string): Promise<{ html: string; text: string } | undefined> {
      const message = await repo.unrenderedMessage(organizationId, id);
      return message ? bodyOf(message) : undefined;
    },
    automationComposer,
    sendTest,

    async get(organizationId: string, id: string) {
      const message = await repo.findMessage(organizationId, id);
      if (!message) throw notFound('email');
      const { provider_message_id, error_code, error_message, ...rest } = message;
      return { ...rest, esp_message_id: provider_message_id, error: error_code ? { code: error_code, message: error_message ?? '' } : null };
    },

    /** A subscriber's messages, newest first, a page at a time; 404 for a subscriber of another organization. */
    async listForSubscriber(organizationId: string, subscriberId: string, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      const beforeId = decodeCursor(query.cursor);
      if (!(await repo.recipientById(organizationId, subscriberId))) throw notFound('subscriber');
      const rows = await repo.listForSubscriber(organizationId, subscriberId, { limit, beforeId });
      return toPage(
        rows.map((row) => ({
          id: row.id,
          template: row.template_id ? { id: row.template_id, slug: row.template_slug!, name: row.template_name! } : null,
          category: row.category,
          to_address: row.to_address,
          subject: row.subject,
          status: row.status,
          esp_message_id: row.provider_message_id,
          error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
          created_at: row.created_at,
          sent_at: row.sent_at,
          delivered_at: row.delivered_at,
          opened_at: row.opened_at,
          clicked_at: row.clicked_at,
          bounced_at: row.bounced_at,
          complained_at: row.complained_at,
          failed_at: row.failed_at,
        })),
        limit,
      );
    },

    /**
     * Renders a template as it would be sent, to a subscriber or to a sample recipient, with unsaved edits
     * in place of the stored fields when given; sends and stores nothing.
     */
    async preview(organizationId: string, templateId: string, input: PreviewInput): Promise<RenderedEmail> {
      const { subject, mjml_content, category } = input;
      const template = await templates.forPreview(organizationId, templateId, { subject, mjml_content, category });
      const organization = await profile(organizationId);
      const recipient = input.subscriber_id ? ((await repo.recipientById(organizationId, input.subscriber_id)) ?? null) : null;
      if (input.subscriber_id && !recipient) throw notFound('subscriber');
      return render(organization, template, recipient, recipient?.email ?? 'subscriber@example.com', input.variables ?? {}, 'preview');
    },
  };
}

export type EmailService = ReturnType<typeof createEmailService>;
