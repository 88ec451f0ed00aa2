"""This project's own dbt-bouncer checks (design.md section 4), beside the built-in ones."""

from pathlib import PurePosixPath

from dbt_bouncer.check_framework.decorator import check, fail
from dbt_bouncer.utils import get_clean_model_name


@check
def check_model_has_group(model):
    """Every model belongs to a group, whose owner answers for it (models/_groups.yml)."""
    if not model.group:
        fail(f"`{get_clean_model_name(model.unique_id)}` has no group.")


@check
def check_model_properties_file_is_its_folders(model):
    """A model is described in its folder's one properties file, `_<folder>__models.yml`."""
    folder = PurePosixPath(model.original_file_path).parent
    expected = folder / f"_{folder.name}__models.yml"
    actual = PurePosixPath((model.patch_path or "").split("://")[-1])
    if actual != expected:
        fail(f"`{get_clean_model_name(model.unique_id)}` is described in {actual}, not {expected}.")
