import { Link } from '../router';
import { Page } from '../ui/Page';

export default function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>
        There is no page at this address. <Link to="/">Go to the overview</Link>.
      </p>
    </Page>
  );
}
