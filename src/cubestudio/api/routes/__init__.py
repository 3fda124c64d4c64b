"""One module per area of the API, each an APIRouter mounted under /api/v1 by api.app."""
