import { act, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { ConfirmProvider, useConfirm } from '@shared/ui/Confirm';
import { Dialog } from '@shared/ui/Dialog';
import { ToastProvider, useToast } from '@shared/ui/Toasts';

function DialogHarness() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Open
      </button>
      <p>Behind the dialog</p>
      <Dialog open={open} title="Edit tag" onClose={() => setOpen(false)}>
        <label htmlFor="n">Name</label>
        <input id="n" />
        <button type="button">Save</button>
      </Dialog>
    </>
  );
}

describe('the dialog', () => {
  it('takes focus, is named by its title, makes the page behind it inert, and gives focus back on Escape', () => {
    const { container } = render(<DialogHarness />);
    const opener = screen.getByRole('button', { name: 'Open' });
    opener.focus();
    fireEvent.click(opener);
    const dialog = screen.getByRole('dialog', { name: 'Edit tag' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
    expect(container.hasAttribute('inert')).toBe(true);

    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(container.hasAttribute('inert')).toBe(false);
    expect(document.activeElement).toBe(opener);
  });

  it('keeps Tab and Shift+Tab inside', () => {
    render(<DialogHarness />);
    fireEvent.click(screen.getByRole('button', { name: 'Open' }));
    const dialog = screen.getByRole('dialog');
    const save = screen.getByRole('button', { name: 'Save' });
    save.focus();
    fireEvent.keyDown(dialog, { key: 'Tab' });
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
    fireEvent.keyDown(dialog, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(save);
  });
});

function ConfirmHarness({ onAnswer }: { onAnswer: (answer: boolean) => void }) {
  const confirm = useConfirm();
  return (
    <button
      type="button"
      onClick={async () => onAnswer(await confirm({ title: 'Delete 3 subscribers?', message: 'This cannot be undone.', confirmLabel: 'Delete', danger: true }))}
    >
      Delete
    </button>
  );
}

describe('the confirmation dialog', () => {
  it('asks with an alert dialog, focuses Cancel for destructive actions, and resolves with the answer', async () => {
    const onAnswer = vi.fn();
    render(
      <ConfirmProvider>
        <ConfirmHarness onAnswer={onAnswer} />
      </ConfirmProvider>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete 3 subscribers?' });
    expect(dialog.textContent).toContain('This cannot be undone.');
    expect(document.activeElement?.textContent).toBe('Cancel');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await vi.waitFor(() => expect(onAnswer).toHaveBeenCalledWith(false));

    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    const confirmButtons = screen.getAllByRole('button', { name: 'Delete' });
    fireEvent.click(confirmButtons[confirmButtons.length - 1]!);
    await vi.waitFor(() => expect(onAnswer).toHaveBeenLastCalledWith(true));
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });
});

function ToastHarness() {
  const toast = useToast();
  return (
    <>
      <button type="button" onClick={() => toast.success('Tag saved.')}>
        Succeed
      </button>
      <button type="button" onClick={() => toast.error('Saving failed.')}>
        Fail
      </button>
    </>
  );
}

describe('toasts', () => {
  it('announce successes politely and errors at once, can be dismissed, and go away by themselves', () => {
    vi.useFakeTimers();
    try {
      render(
        <ToastProvider durationMs={1000}>
          <ToastHarness />
        </ToastProvider>,
      );
      fireEvent.click(screen.getByRole('button', { name: 'Succeed' }));
      fireEvent.click(screen.getByRole('button', { name: 'Fail' }));
      expect(screen.getByRole('status').textContent).toContain('Tag saved.');
      expect(screen.getByRole('alert').textContent).toContain('Saving failed.');

      fireEvent.click(screen.getAllByRole('button', { name: 'Dismiss notification' })[0]!);
      expect(screen.getByRole('alert').textContent).toBe('');
      act(() => vi.advanceTimersByTime(1001));
      expect(screen.getByRole('status').textContent).toBe('');
    } finally {
      vi.useRealTimers();
    }
  });
});
